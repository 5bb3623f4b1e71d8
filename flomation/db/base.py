"""Django's PostgreSQL backend, pointed at the embedded server (started on first connection)."""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql import base

from flomation.db import ensure_database, ensure_embedded_server
from flomation.db.recovery import embedded_server_recover


class DatabaseWrapper(base.DatabaseWrapper):
    _databases_checked: set[str] = set()

    def get_connection_params(self) -> dict[str, Any]:
        server = ensure_embedded_server(self.settings_dict["EMBEDDED_DATA_DIR"])
        # Filled in once the server is known, so dbshell and the test runner see the same values.
        self.settings_dict.update(
            HOST=server.socket_dir, PORT=str(server.port), USER=server.user, PASSWORD=""
        )
        name = self.settings_dict["NAME"]
        # The application database is created on demand; test databases are created by the test runner.
        if (
            name
            and name not in self._databases_checked
            and name != "postgres"
            and not name.startswith("test_")
        ):
            ensure_database(server, name)
            self._databases_checked.add(name)
        return super().get_connection_params()

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        """Connects; when the embedded server turns out to be gone (its postmaster died), starts it again
        (or waits while another process of the box does) and connects once more."""
        import psycopg

        try:
            return super().get_new_connection(conn_params)
        except psycopg.OperationalError:
            server = embedded_server_recover(self.settings_dict["EMBEDDED_DATA_DIR"])
            if server is None:
                raise
        self.settings_dict.update(HOST=server.socket_dir, PORT=str(server.port))
        return super().get_new_connection({**conn_params, "host": server.socket_dir, "port": server.port})


class DatabaseClient(base.DatabaseClient):
    def runshell(self, parameters: list[str]) -> None:
        self.connection.ensure_connection()  # starts the embedded server and fills in its socket
        super().runshell(parameters)


DatabaseWrapper.client_class = DatabaseClient
