"""Event pages: the view modules register their routes on the blueprint when imported here."""
from chapter.events import tasks  # noqa: F401  (the periodic task and the job, before the queue is bound)
from chapter.events import views_member, views_officer, views_public  # noqa: F401
