"""The shared queue is read once a minute per process, never remembered from an uncommitted transaction."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from flomation.core.models import Queue
from flomation.core.services import queues


def test_a_committed_shared_queue_is_reused_and_a_fresh_read_sees_a_new_code(transactional_db):
    first = queues.queue_shared()
    queues.queue_shared()  # read back committed: now remembered
    with CaptureQueriesContext(connection) as reads:
        again = queues.queue_shared()
    assert again.id == first.id and len(reads) == 0
    code = queues.queue_rotate_code(queue=Queue.objects.get(id=first.id))
    assert queues.queue_registration_code(queue=queues.queue_shared(fresh=True)) == code


def test_a_deleted_shared_queue_is_forgotten(transactional_db):
    queues.queue_shared()
    old = queues.queue_shared()
    old.delete()
    assert queues.queue_shared().id != old.id


@pytest.mark.django_db
def test_a_shared_queue_read_inside_a_transaction_is_not_remembered():
    with transaction.atomic():
        made = queues.queue_shared()
        queues.queue_shared()
    with CaptureQueriesContext(connection) as reads:
        assert queues.queue_shared().id == made.id
    assert len(reads) == 1


def test_the_first_requests_of_a_new_install_create_the_shared_queue_once_and_all_get_it(transactional_db):
    """Several requests at once on a new install (three waiting webhooks, say) each find no shared queue and
    create it: one wins, the others get that queue (a 500 here was 'There is already a queue named shared')."""
    import threading

    from django.db import connections

    for _ in range(15):
        Queue.objects.filter(organisation__isnull=True).delete()
        queues._shared_cache = None
        barrier = threading.Barrier(4)
        got: list[object] = []

        def first_request(barrier: threading.Barrier, got: list[object]) -> None:
            try:
                barrier.wait()
                got.append(queues.queue_shared(fresh=True).id)
            except Exception as error:  # what the request would have answered with
                got.append(error)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=first_request, args=(barrier, got)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(set(got)) == 1 and not isinstance(got[0], Exception), got
        assert Queue.objects.filter(organisation__isnull=True).count() == 1
