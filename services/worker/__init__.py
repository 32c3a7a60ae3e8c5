"""The worker: the outbox relay, event dispatch and side-effect jobs, run by arq (``cobro
worker``) or in-process (the embedded demo). Jobs take ids and delegate to use cases."""
