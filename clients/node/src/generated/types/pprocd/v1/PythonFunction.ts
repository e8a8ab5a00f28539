// Original file: pprocd/v1/callable.proto


/**
 * A Python function passed by reference instead of a registered callable's
 * name (the Python client's `farm.pmap(fn, xs)`). No code travels: the farm
 * starts a Python template process with `interpreter`, puts `sys_path` in
 * front of its import path, imports `module` once, and forks workers from
 * it that run `qualname`. Workers of one template are shared by every call
 * that names the same interpreter, module, file and path; when the module's
 * file changes, new calls get a new template (running items finish on the
 * old one).
 * 
 * A reference runs code as the server's user: it is accepted only from a
 * UNIX-socket caller whose uid is the server's own, or when the server's
 * config lets users reference that function (PERMISSION_DENIED otherwise).
 * A module the farm cannot import is INVALID_ARGUMENT naming it and why.
 */
export interface PythonFunction {
  /**
   * The interpreter to run: the client's sys.executable (absolute).
   */
  'interpreter'?: (string);
  /**
   * The module's name as the client knows it ("__main__" for a script).
   */
  'module'?: (string);
  /**
   * The module's source file (absolute). A script's `__main__` is imported
   * from it under the name "__mp_main__", as multiprocessing's spawn does.
   */
  'moduleFile'?: (string);
  /**
   * The function's qualified name in the module ("count_primes",
   * "Solver.run" for a static method).
   */
  'qualname'?: (string);
  /**
   * Import path entries (absolute), in order, put in front of the
   * interpreter's own.
   */
  'sysPath'?: (string)[];
  /**
   * The function takes a channel as its first parameter (pprocess's
   * `start`/`manage` with a channel): a channel callable. Otherwise it
   * returns one value per invocation.
   */
  'channel'?: (boolean);
}

/**
 * A Python function passed by reference instead of a registered callable's
 * name (the Python client's `farm.pmap(fn, xs)`). No code travels: the farm
 * starts a Python template process with `interpreter`, puts `sys_path` in
 * front of its import path, imports `module` once, and forks workers from
 * it that run `qualname`. Workers of one template are shared by every call
 * that names the same interpreter, module, file and path; when the module's
 * file changes, new calls get a new template (running items finish on the
 * old one).
 * 
 * A reference runs code as the server's user: it is accepted only from a
 * UNIX-socket caller whose uid is the server's own, or when the server's
 * config lets users reference that function (PERMISSION_DENIED otherwise).
 * A module the farm cannot import is INVALID_ARGUMENT naming it and why.
 */
export interface PythonFunction__Output {
  /**
   * The interpreter to run: the client's sys.executable (absolute).
   */
  'interpreter': (string);
  /**
   * The module's name as the client knows it ("__main__" for a script).
   */
  'module': (string);
  /**
   * The module's source file (absolute). A script's `__main__` is imported
   * from it under the name "__mp_main__", as multiprocessing's spawn does.
   */
  'moduleFile': (string);
  /**
   * The function's qualified name in the module ("count_primes",
   * "Solver.run" for a static method).
   */
  'qualname': (string);
  /**
   * Import path entries (absolute), in order, put in front of the
   * interpreter's own.
   */
  'sysPath': (string)[];
  /**
   * The function takes a channel as its first parameter (pprocess's
   * `start`/`manage` with a channel): a channel callable. Otherwise it
   * returns one value per invocation.
   */
  'channel': (boolean);
}
