from flomation.roles import Role

ROLE = Role(
    name="launch",
    default_port=8081,
    urlconf="flomation.launch.urls",
    prefix="launch/",
    loops=(),
)
