"""intake_api's background process: relays the events intake writes to the outbox and purges expired
idempotency records."""

from services.core.worker import idempotency_purge_task, run_worker
from services.outbox.relay import relay_task


def main() -> None:
    run_worker("intake-worker", [relay_task(["intake"]), idempotency_purge_task()])


if __name__ == "__main__":
    main()
