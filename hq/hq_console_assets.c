/*
 * hq_console_assets.c - the console's stylesheet and script (hq/web/),
 * embedded in posmark-hq at build time with the assembler's .incbin, so the
 * binary serves them without files to install or a network to fetch them
 * from (docs/console.md). The Makefile makes this object depend on the files in hq/web.
 * Each asset is followed by a NUL that its length does not count.
 */
#define ASSET(sym, path)                                                                   \
	__asm__(".section .rodata\n"                                                       \
		".global " #sym "\n"                                                       \
		".hidden " #sym "\n"                                                       \
		".type " #sym ", @object\n"                                                \
		".balign 16\n" #sym ":\n"                                                  \
		".incbin \"" path "\"\n"                                                   \
		".global " #sym "_end\n"                                                   \
		".hidden " #sym "_end\n" #sym "_end:\n"                                     \
		".byte 0\n"                                                                \
		".previous\n")

ASSET(console_asset_css, "hq/web/console.css");
ASSET(console_asset_js, "hq/web/console.js");
