/* commands: the entry point of each `emocam` subcommand. Each takes the
 * arguments after the subcommand's name (argv[0] is the subcommand) and
 * returns the process exit code (0, EXIT_RUNTIME or EXIT_USAGE).
 */
#ifndef APP_COMMANDS_H
#define APP_COMMANDS_H

int cmd_live(int argc, char **argv);    /* emocam [--camera DEV | --video FILE] */
int cmd_train(int argc, char **argv);   /* emocam train */
int cmd_eval(int argc, char **argv);    /* emocam eval */
int cmd_predict(int argc, char **argv); /* emocam predict */
int cmd_bench(int argc, char **argv);   /* emocam bench */
int cmd_adapt(int argc, char **argv);   /* emocam adapt */
int cmd_report(int argc, char **argv);  /* emocam report */
int cmd_import(int argc, char **argv);  /* emocam import */
int cmd_export(int argc, char **argv);  /* emocam export */

#endif
