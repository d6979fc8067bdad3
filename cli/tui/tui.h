/*
 * tui.h - `heapview tui`: an interactive fragmentation map with a block
 * inspector, the problem and owner lists and live refresh (ncurses).
 *   heapview tui [options] DUMP... [firmware.elf]
 *   heapview tui [options] --gdb-remote HOST:PORT | --openocd HOST[:PORT] firmware.elf
 */
#ifndef HV_TUI_H
#define HV_TUI_H

/* argv holds the arguments after "tui".  Returns the exit code: 0 on a
 * clean quit, 2 on usage errors or unreadable input, 128+N after signal N. */
int cmd_tui(int argc, char **argv);

#endif /* HV_TUI_H */
