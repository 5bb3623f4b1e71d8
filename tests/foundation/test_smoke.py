import pytest


@pytest.mark.django_db
def test_the_embedded_database_has_pgvector():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension WHERE extname = 'vector'")
        assert cursor.fetchone() == ("vector",)


def test_health_answers(client):
    assert client.get("/healthz").json() == {"status": "ok"}
