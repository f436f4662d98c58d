"""Migrations stay backwards compatible for one release.

A deploy's release phase (`migrate`) runs while the previous release's web and workers
still run, on the new schema, until they are replaced. So every migration added since the
previous release (RELEASES.txt) may only add: a new column the previous release's code
does not know must be nullable or have a database default (Django's `default=` alone is
applied by the new code, not by the database: the old code's INSERT would fail NOT NULL),
and nothing the old code reads or writes may be removed, renamed or changed in type. A
column is removed in two releases: the code stops using it in one, the migration drops it
in the next.

This test compares the models the previous release's migrations make with this release's;
tests/integration/test_deploy.py runs the previous
release's worker and its submit against the migrated schema.
"""

from __future__ import annotations

import subprocess

from django.db import migrations, models
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState

from tests.helpers import REPO
from tests.releases import previous_release

APPS = ("simulator",)
# Field arguments the database never sees, or that only relax what it accepts.
RELAXING = {"db_default", "default", "help_text", "verbose_name", "choices", "blank", "editable"}


def previous_release_migrations() -> set[tuple[str, str]]:
    """(app, name) of every migration the previous release already had."""
    release = previous_release()

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
        )

    had = set()
    for app in APPS:
        listed = git("ls-tree", "--name-only", release.commit, f"{app}/migrations/")
        assert listed.returncode == 0, listed.stderr
        for path in listed.stdout.split():
            name = path.rsplit("/", 1)[-1]
            if name.endswith(".py") and name != "__init__.py":
                had.add((app, name.removesuffix(".py")))
    return had


def schemas() -> tuple[ProjectState, ProjectState]:
    """The models as the last release's migrations left them, and as this release's do:
    what the release phase turns one into (all of this release's migrations at once)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    had = previous_release_migrations()
    # The last release's leaves: its migrations that no other of its migrations follows.
    leaves = [
        node
        for node in had
        if not any(child in had for child in loader.graph.node_map[node].children)
    ]
    return loader.project_state(leaves, at_end=True), loader.project_state()


def problems_between(old: ProjectState, new: ProjectState) -> list[str]:
    """What in `new` would break code written for `old`, one sentence each."""
    found = []
    for (app, name), model in sorted(old.models.items()):
        if app not in APPS:
            continue
        if (app, name) not in new.models:
            found.append(f"{app}.{name}: removed or renamed; the previous release uses it")
            continue
        fields = new.models[app, name].fields
        for field_name, field in model.fields.items():
            if field_name not in fields:
                found.append(
                    f"{app}.{name}.{field_name}: removed or renamed; the previous release "
                    "reads and writes it (drop it a release after the code stops using it)"
                )
                continue
            changed = _changed_arguments(field, fields[field_name])
            if changed:
                found.append(
                    f"{app}.{name}.{field_name}: {sorted(changed)} changed; the previous "
                    "release relies on them"
                )
        for field_name, field in fields.items():
            if field_name in model.fields:
                continue
            if not (
                field.null or field.db_default is not models.NOT_PROVIDED or field.many_to_many
            ):
                found.append(
                    f"{app}.{name}.{field_name}: a new NOT NULL column without a database "
                    "default; the previous release inserts rows without it (give it "
                    "db_default= or null=True)"
                )
    return found


def _changed_arguments(old: models.Field, new: models.Field) -> set[str]:
    _, old_path, _, old_kwargs = old.deconstruct()
    _, new_path, _, new_kwargs = new.deconstruct()
    changed = {"type"} if old_path != new_path else set()
    for key in set(old_kwargs) | set(new_kwargs):
        before, after = old_kwargs.get(key), new_kwargs.get(key)
        if before == after or key in RELAXING:
            continue
        if key == "null" and after:
            continue  # NULL allowed now: the old code writes no NULL and reads none it wrote
        if key == "max_length" and (after or 0) >= (before or 0):
            continue
        changed.add(key)
    return changed


class TestMigrationsSinceTheLastRelease:
    def test_they_only_add_what_the_previous_release_can_live_with(self):
        assert problems_between(*schemas()) == []

    def test_a_not_null_column_without_a_database_default_is_caught(self):
        # The check itself: 0006_job_kind alone (Django's default= only) would have broken
        # release-16's web process during a deploy; 0007 gives the column a database default.
        loader = MigrationLoader(None, ignore_no_migrations=True)
        node = ("simulator", "0006_job_kind")
        [problem] = problems_between(
            loader.project_state(node, at_end=False), loader.project_state(node, at_end=True)
        )
        assert problem.startswith("simulator.simulationjob.kind: a new NOT NULL column")

    def test_a_removed_or_retyped_column_is_caught_and_a_nullable_one_is_not(self):
        loader = MigrationLoader(None, ignore_no_migrations=True)
        old = loader.project_state()
        new = old.clone()
        for op in [
            migrations.RemoveField("simulationjob", "error"),
            migrations.AlterField("simulationjob", "seed", models.TextField(null=True)),
            migrations.AddField("simulationjob", "later", models.IntegerField(null=True)),
        ]:
            op.state_forwards("simulator", new)
        problems = problems_between(old, new)
        assert len(problems) == 2, problems
        assert problems[0].startswith("simulator.simulationjob.error: removed or renamed")
        assert problems[1].startswith("simulator.simulationjob.seed: ['type'] changed")
