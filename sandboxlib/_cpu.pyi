"""What the processor runs (sandboxlib/_cpu.c)."""

def x86_64_level() -> int:
    """The x86-64 level (1, 2 or 3: x86-64-v3 and beyond count as 3) this processor and
    operating system run; 0 on other architectures."""

def user_gs_base() -> bool:
    """Whether user code may read and set the GS segment's base with the FSGSBASE
    instructions (x86-64 Linux 5.9+ on a processor that has them)."""
