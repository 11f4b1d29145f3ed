/** The medvox version written into outputs (Software Versions, sidecars, descriptions). A leaf module: importing it loads nothing else. */
export const MEDVOX_VERSION = '0.1.0';
