"""An object's x-oss-replication-status once every task of its key is done."""

from __future__ import annotations

from pathlib import Path

from ferry.core.model import ChangeKind, ReplicationState, Versioning
from ferry.core.replication_task import FAILED_AFTER_ATTEMPTS
from tests.unit.test_replication_state_machine import World


def test_a_failed_delete_that_finally_succeeds_leaves_the_new_object_completed(tmp_path: Path) -> None:
    world = World(tmp_path, Versioning.OFF)
    world.add_rule()
    world.put("k", b"one")
    world.objects.delete(world.bucket("src"), "k", None)
    world.put("k", b"two")
    tasks = world.pending()
    kinds = [t.kind for t in tasks]  # type: ignore[attr-defined]
    assert kinds == [ChangeKind.PUT, ChangeKind.DELETE, ChangeKind.PUT]
    delete_task_id = tasks[1].id  # type: ignore[attr-defined]
    for _ in range(FAILED_AFTER_ATTEMPTS):  # the destination refuses the delete for a while
        delete_task = next(t for t in world.pending() if t.id == delete_task_id)  # type: ignore[attr-defined]
        world.queue.fail(delete_task, "destination down", world.clock.now())  # type: ignore[arg-type]
    for task in world.pending():
        if task.id != delete_task_id:  # type: ignore[attr-defined]
            world.executor.execute(task)  # type: ignore[arg-type]
            world.queue.ack(task)  # type: ignore[arg-type]

    def status() -> ReplicationState:
        version = world.store.get_version("src", "k", None)
        assert version is not None
        return version.replication

    assert status() is ReplicationState.FAILED  # the key still has a failed change to deliver
    (delete_task,) = world.pending()
    world.executor.execute(delete_task)  # type: ignore[arg-type]
    world.queue.ack(delete_task)  # type: ignore[arg-type]
    assert status() is ReplicationState.COMPLETED
