"""workflow_api's background process: relays its outbox events and fires the SLA warnings."""

from services.core.worker import relay_task, run_worker, timer_task


def main() -> None:
    run_worker("workflow-worker", [relay_task(["workflow"]), timer_task()])


if __name__ == "__main__":
    main()
