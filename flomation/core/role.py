from flomation.roles import Role

ROLE = Role(
    name="api",
    default_port=8888,
    urlconf="flomation.core.urls",
    prefix="api/v1/",
    loops=(
        "flomation.core.loops.resume_due",
        "flomation.core.loops.retention",
        "flomation.core.protocol.loops.reclaim_expired_leases",
        "flomation.core.loops.flows_folder",
        "flomation.core.loops.git_sync",
    ),
)
