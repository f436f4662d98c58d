"""The JOST Cloud Django project. Importing it loads the Celery app, so `@shared_task`
functions bind to it in every process (web and worker)."""

from service.celery import app as celery_app

__all__ = ["celery_app"]
