# PRMA_CHECK_UCX: find UCX (ucp) with pkg-config (Debian package libucx-dev).
AC_DEFUN([PRMA_CHECK_UCX], [
  PKG_CHECK_MODULES([UCX], [ucx >= 1.10], [],
    [AC_MSG_ERROR([UCX >= 1.10 not found by pkg-config. On Debian: apt-get install libucx-dev])])
])
