"""The Litestar app: controllers, HTTP schemas, auth, problem+json errors."""
