from flomation.roles import Role

ROLE = Role(
    name="launch",
    default_port=8081,
    urlconf="flomation.launch.urls",
    prefix="launch/",
    loops=("flomation.launch.loops.run",),
    description="Trigger ingress (webhooks, forms, QR codes, pixels, manual runs), schedules and pollers.",
)
