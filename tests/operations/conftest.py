"""What the operations tests share: a scraper's token, API apps that accept it, and reading an exposition."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from intake_api.main import create_app as create_intake
from notify_api.main import create_app as create_notify
from services.core.config import Settings

TOKEN = "scraper-token-for-the-tests-only"
SCRAPER = {"Authorization": f"Bearer {TOKEN}"}


def value(text: str, name: str, **labels: str) -> float | None:
    """The sample ``name{labels}`` of an exposition (labels in any order), or None when absent."""
    for line in text.splitlines():
        match = re.fullmatch(r"([a-z_:]+)(?:\{(.*)\})? (\S+)", line)
        if match is None or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        if found == labels:
            return float(match.group(3))
    return None


@pytest.fixture(scope="module")
def scraped_settings(settings: Settings) -> Settings:
    return settings.with_changes(observe={"metrics_token": TOKEN, "metrics_cache_seconds": 0})


@pytest.fixture(scope="module")
async def intake_scraped(scraped_settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_intake(scraped_settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="module")
async def notify_scraped(scraped_settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_notify(scraped_settings)
    async with app.router.lifespan_context(app):
        yield app
