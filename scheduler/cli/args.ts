/** The command-line parser both `meridian` and `meridian-dns` use. */
export { flag, flagAll, numberFlag, parseArgs, UsageError, USAGE_EXIT_CODE, type ParsedArgs } from '../../common/args';
