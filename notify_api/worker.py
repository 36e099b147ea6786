"""notify_api's background process: relays the events notify writes to the outbox."""

from services.core.worker import relay_task, run_worker


def main() -> None:
    run_worker("notify-worker", [relay_task(["notify"])])


if __name__ == "__main__":
    main()
