"""What the processor runs (sandboxlib/_cpu.c)."""

def x86_64_level() -> int:
    """The x86-64 level (1, 2 or 3: x86-64-v3 and beyond count as 3) this processor and
    operating system run; 0 on other architectures."""
