from django.contrib import admin

from simulator.models import SimulationJob


@admin.register(SimulationJob)
class SimulationJobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "owner",
        "status",
        "rounds_done",
        "rounds_total",
        "attempts",
        "heartbeat_at",
        "created_at",
        "finished_at",
    )
    list_filter = ("status",)
    search_fields = ("id", "owner__username")
    readonly_fields = (
        "id",
        "created_at",
        "enqueued_at",
        "started_at",
        "finished_at",
        "claim",
        "claimed_by",
        "heartbeat_at",
        "attempts",
    )
    date_hierarchy = "created_at"
