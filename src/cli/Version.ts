/**
 * The version `nerve-store --version` prints: the package's (a test keeps them equal; a constant
 * works the same from `src/` and from `dist/`).
 *
 * @since 0.6.0
 */
export const VERSION = "0.6.0"
