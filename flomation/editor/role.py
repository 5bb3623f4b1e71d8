from flomation.roles import Role

ROLE = Role(
    name="editor",
    default_port=8080,
    urlconf="flomation.editor.urls",
    prefix="",
    loops=(),
)
