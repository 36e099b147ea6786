"""intake_api's background process: relays the events intake writes to the outbox."""

from services.core.worker import relay_task, run_worker


def main() -> None:
    run_worker("intake-worker", [relay_task(["intake"])])


if __name__ == "__main__":
    main()
