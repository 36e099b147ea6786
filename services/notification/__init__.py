"""Notifications: templates as data, events to notifications, channels, the sender, outbound webhooks.

- ``defaults`` / ``templates`` — the built-in templates, rendering in a Jinja2 sandbox, versions, previews
- ``rules`` / ``events`` — who is told of which event, by which channel (stored with the event's dedup)
- ``channels`` / ``sender`` — email (SMTP), SMS (HTTP gateway), in-app; claiming, retries, rate limits
- ``receipts`` — the SMS gateway's signed delivery receipts
- ``outbound`` — signed webhooks to subscribers (the postal operator first)
- ``service`` — listing (recipients masked), the in-app inbox, re-sending
"""
