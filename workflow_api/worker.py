"""workflow_api's background process: relays its outbox events, fires the SLA warnings and returns the electronic
results nobody downloaded in time."""

from services.core.worker import run_worker
from services.dossier.eresult import auto_return_task
from services.outbox.relay import relay_task
from services.sla.timers import timer_task


def main() -> None:
    run_worker("workflow-worker", [relay_task(["workflow"]), timer_task(), auto_return_task()])


if __name__ == "__main__":
    main()
