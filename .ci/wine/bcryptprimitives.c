/* Wine 8 ships no bcryptprimitives.dll, yet Rust's standard library imports
 * ProcessPrng from it for its random seeds (HashMap keys). This stand-in
 * exports that one function, forwarding to BCryptGenRandom with the system's
 * preferred generator, which Wine does have. Built by .ci/wine/shim.sh and
 * copied beside each executable by .ci/wine/run; never shipped. */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, chunk,
                                            BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
