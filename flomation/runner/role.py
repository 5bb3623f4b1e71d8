from flomation.roles import Role

ROLE = Role(name="runner", loops=(), description="the runner agent: claim, execute, report")
