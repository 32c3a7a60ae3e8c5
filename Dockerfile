# One image for the API, the worker and the migration Job (helm/cobro).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain domain
COPY providers providers
COPY services services
COPY webhooks webhooks
COPY migrations migrations
RUN pip install --no-cache-dir . && useradd --uid 10001 --no-create-home cobro
USER 10001
EXPOSE 8000
CMD ["cobro", "api", "--host", "0.0.0.0", "--port", "8000"]
