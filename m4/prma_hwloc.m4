# PRMA_CHECK_HWLOC: find hwloc with pkg-config (Debian package libhwloc-dev).
AC_DEFUN([PRMA_CHECK_HWLOC], [
  PKG_CHECK_MODULES([HWLOC], [hwloc >= 2.0], [],
    [AC_MSG_ERROR([hwloc >= 2.0 not found by pkg-config. On Debian: apt-get install libhwloc-dev])])
])
