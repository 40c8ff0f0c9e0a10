/** What every part of Meridian shares: the HTTP APIs' error catalogue and the command-line parser. */
export { API_ERRORS, errorAnswer, type ApiErrorCode, type ErrorBody, type Issue } from './http-errors';
