from flomation.roles import Role

ROLE = Role(
    name="api",
    default_port=8888,
    urlconf="flomation.core.urls",
    prefix="api/v1/",
    loops=(),
)
