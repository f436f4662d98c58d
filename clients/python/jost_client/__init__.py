"""The JOST Cloud API's Python client: `JostClient(url, token)`, its resources `jobs` and
`profiles`, typed answers, ApiError carrying the API's status and `errors`, and safe
retries (Idempotency-Key on every submit)."""

from jost_client.client import Jobs, JostClient, Profiles, new_idempotency_key, operation
from jost_client.errors import (
    ApiError,
    Conflict,
    JostError,
    NotFound,
    Problem,
    RateLimited,
    TransportError,
    Unauthorized,
)
from jost_client.models import Accepted, Job, JobResults, JobStatus, Page, Profile, Progress
from jost_client.transport import RetryPolicy

__version__ = "0.1.0"
__all__ = [
    "Accepted",
    "ApiError",
    "Conflict",
    "Job",
    "JobResults",
    "JobStatus",
    "Jobs",
    "JostClient",
    "JostError",
    "NotFound",
    "Page",
    "Problem",
    "Profile",
    "Profiles",
    "Progress",
    "RateLimited",
    "RetryPolicy",
    "TransportError",
    "Unauthorized",
    "new_idempotency_key",
    "operation",
]
