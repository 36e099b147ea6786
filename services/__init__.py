"""Một Cửa shared package: settings, database, schema, auth, outbox and domain logic."""
