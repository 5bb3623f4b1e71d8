"""The seccomp filter every script sandbox gets on top of its namespaces (bubblewrap's ``--seccomp``).

The namespaces are the boundary; this filter only takes away the kernel's riskiest entry points, which no
script needs and which have been the way out of containers before: tracing, new namespaces (a nested user
namespace would give a script capabilities over fresh mount and network namespaces), mounts, BPF,
performance counters, io_uring, userfaultfd, keyrings, module and kexec loading, file handles. A refused call
fails with EPERM (``clone3`` with ENOSYS, so that the C library falls back to ``clone``, whose flags the
filter can read). Calls from another architecture or the x32 ABI are refused.

It is a deny-list rather than Docker's allow-list on purpose: ``script/bash`` runs whatever programs the
read-only system holds, and an allow-list that breaks one of them silently is worse than a short list of
calls nobody misses. Standard library only; no Django.
"""

from __future__ import annotations

import os
import struct

_X86_64 = 0xC000003E
_AARCH64 = 0xC00000B7

# clone(2) flags that create namespaces.
_NAMESPACE_FLAGS = 0x10000000 | 0x00020000 | 0x20000000 | 0x40000000 | 0x08000000 | 0x04000000 | 0x02000000

# name -> (x86_64, aarch64)
_REFUSED = {
    "ptrace": (101, 117),
    "process_vm_readv": (310, 270),
    "process_vm_writev": (311, 271),
    "pidfd_getfd": (438, 438),
    "unshare": (272, 97),
    "setns": (308, 268),
    "mount": (165, 40),
    "umount2": (166, 39),
    "pivot_root": (155, 41),
    "open_tree": (428, 428),
    "move_mount": (429, 429),
    "fsopen": (430, 430),
    "fsconfig": (431, 431),
    "fsmount": (432, 432),
    "fspick": (433, 433),
    "mount_setattr": (442, 442),
    "bpf": (321, 280),
    "perf_event_open": (298, 241),
    "userfaultfd": (323, 282),
    "keyctl": (250, 219),
    "add_key": (248, 217),
    "request_key": (249, 218),
    "io_uring_setup": (425, 425),
    "io_uring_enter": (426, 426),
    "io_uring_register": (427, 427),
    "kexec_load": (246, 104),
    "kexec_file_load": (320, 294),
    "init_module": (175, 105),
    "finit_module": (313, 273),
    "delete_module": (176, 106),
    "reboot": (169, 142),
    "swapon": (167, 224),
    "swapoff": (168, 225),
    "acct": (163, 89),
    "quotactl": (179, 60),
    "syslog": (103, 116),
    "name_to_handle_at": (303, 264),
    "open_by_handle_at": (304, 265),
}
_CLONE = (56, 220)
_CLONE3 = (435, 435)

_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_JSET_K = 0x45
_RET_K = 0x06
_ALLOW = 0x7FFF0000
_ERRNO = 0x00050000
_EPERM = 1
_ENOSYS = 38


def refused_calls() -> tuple[str, ...]:
    """The names of the refused system calls (for the documentation and the tests)."""
    return (*sorted(_REFUSED), "clone with namespace flags", "clone3 (ENOSYS)")


def program(machine: str | None = None) -> bytes | None:
    """The compiled filter (struct sock_filter[]) for this machine, or None on an architecture we do not know."""
    machine = machine or os.uname().machine
    index = {"x86_64": 0, "aarch64": 1}.get(machine)
    if index is None:
        return None
    arch = (_X86_64, _AARCH64)[index]
    refuse = (_RET_K, 0, 0, _ERRNO | _EPERM)
    code: list[tuple[int, int, int, int]] = [
        (_LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
        (_JEQ_K, 1, 0, arch),
        refuse,
        (_LD_W_ABS, 0, 0, 0),  # seccomp_data.nr
    ]
    if index == 0:
        code += [(_JGE_K, 0, 1, 0x40000000), refuse]  # the x32 ABI
    for numbers in _REFUSED.values():
        code += [(_JEQ_K, 0, 1, numbers[index]), refuse]
    code += [(_JEQ_K, 0, 1, _CLONE3[index]), (_RET_K, 0, 0, _ERRNO | _ENOSYS)]
    code += [
        (_JEQ_K, 0, 3, _CLONE[index]),
        (_LD_W_ABS, 0, 0, 16),  # the low half of args[0]: clone's flags on both architectures
        (_JSET_K, 0, 1, _NAMESPACE_FLAGS),
        refuse,
        (_RET_K, 0, 0, _ALLOW),
    ]
    return b"".join(struct.pack("=HBBI", *instruction) for instruction in code)
