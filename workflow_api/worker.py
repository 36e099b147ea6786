"""workflow_api's background process: relays the events workflow writes to the outbox."""

from services.core.worker import relay_task, run_worker


def main() -> None:
    run_worker("workflow-worker", [relay_task(["workflow"])])


if __name__ == "__main__":
    main()
