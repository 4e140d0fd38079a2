"""Run the background worker: queued tasks, heartbeat and housekeeping, until Ctrl-C."""

import os

from django.conf import settings
from django.core.management.base import BaseCommand
from django_tasks_db.management.commands.db_worker import Worker

from operations.worker import Housekeeper, new_worker_id, run_startup


class Command(BaseCommand):
    help = "Run Storybank's background worker (django-tasks database backend plus housekeeping)."

    def add_arguments(self, parser):
        parser.add_argument("--queue-name", default="*", help="Queues to process ('*' = all).")
        parser.add_argument("--interval", type=float, default=0.5, help="Seconds between polls.")
        parser.add_argument("--batch", action="store_true", help="Exit when no task is left.")
        parser.add_argument("--max-tasks", type=int, default=None)

    def handle(self, *args, **options):
        worker_id = new_worker_id()
        housekeeper = Housekeeper(worker_id, settings.WORKER_HEARTBEAT_SECONDS)
        housekeeper.start()
        worker = Worker(
            queue_names=options["queue_name"].split(","),
            interval=options["interval"],
            batch=options["batch"],
            backend_name="default",
            startup_delay=False,
            max_tasks=options["max_tasks"],
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        worker.configure_signals()
        run_startup()
        self.stdout.write(f"Worker {worker_id} started (pid {os.getpid()}).")
        self.stdout.flush()
        try:
            worker.run()
        finally:
            housekeeper.stop()
