/* ProcessPrng for wine 8.0, which lacks bcryptprimitives.dll.
 *
 * Rust's standard library (1.78 and later) takes its random bytes from
 * ProcessPrng in bcryptprimitives.dll, present on Windows 10 and later but
 * not in wine 8.0, so every Rust program exits at once under that wine
 * (status 53: a DLL not found). setup.sh builds this one-function DLL with
 * mingw-w64 and puts it in the wine prefix. It answers from RtlGenRandom
 * (advapi32's SystemFunction036), which wine has. Never shipped: it exists
 * only in the test prefix. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
	while (length > 0) {
		ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
		if (!SystemFunction036(data, chunk))
			return FALSE;
		data += chunk;
		length -= chunk;
	}
	return TRUE;
}
