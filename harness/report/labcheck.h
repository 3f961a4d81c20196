/* SPDX-License-Identifier: MIT */
/*
 * `copylab lab check N DIR`: a student's results of lab N against the
 * instructors' key (docs/labs/instructors/labN.md): which cells are
 * missing, and the student's own paired ratios with the direction the key
 * expects and whether the student's intervals support it.
 */
#ifndef COPYLAB_REPORT_LABCHECK_H
#define COPYLAB_REPORT_LABCHECK_H

int cmd_lab(int argc, char **argv);

#endif
