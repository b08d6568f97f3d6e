# One image for every Publicist service; the compose file picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# Pango (and HarfBuzz's subsetter) lay out the PDF reports; Noto CJK draws their Chinese.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY publicist ./publicist
COPY connectors ./connectors
COPY campaigns ./campaigns
COPY metrics ./metrics
COPY scheduler ./scheduler
COPY simulators ./simulators
RUN pip install --no-cache-dir . \
    && useradd --create-home --home-dir /var/lib/publicist publicist \
    && install -d -o publicist -g publicist /var/lib/publicist/media

USER publicist
WORKDIR /var/lib/publicist
ENTRYPOINT ["publicist"]
CMD ["--help"]
