from flomation.roles import Role

ROLE = Role(
    name="identity",
    default_port=8999,
    urlconf="flomation.identity.urls",
    prefix="identity/",
    loops=(),
)
