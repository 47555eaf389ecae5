/*
 * Test-only stand-in for Windows' bcryptprimitives.dll, for running the
 * x86_64-pc-windows-gnu build under Wine 8.0 (.ci/wine/setup.sh builds it).
 *
 * Rust's standard library (1.78 and later) imports exactly one function
 * from bcryptprimitives.dll, ProcessPrng, for HashMap keys and the like.
 * Wine 8.0 has no bcryptprimitives.dll at all, so an .exe built by Rust
 * does not start there (exit code 53, nothing printed with WINEDEBUG=-all).
 * Built as bcryptprimitives.dll and put next to the .exe, this file makes
 * it start: Wine loads a native DLL from the application's directory first.
 *
 * Check what std imports after a toolchain update:
 *   x86_64-w64-mingw32-objdump -p X.exe | grep -A4 'DLL Name: bcryptprimitives'
 *
 * Never shipped: Windows 10 and later have the real DLL.
 */
#include <windows.h>

/* RtlGenRandom: exported by advapi32 as SystemFunction036. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* BOOL ProcessPrng(PBYTE pbData, SIZE_T cbData); always returns TRUE on
 * Windows; here FALSE if RtlGenRandom fails. Fills in chunks because
 * RtlGenRandom takes a 32-bit length. */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)inst;
    (void)reason;
    (void)reserved;
    return TRUE;
}
