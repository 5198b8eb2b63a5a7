# PRMA_CHECK_CMOCKA: find cmocka with pkg-config (Debian package libcmocka-dev).
AC_DEFUN([PRMA_CHECK_CMOCKA], [
  PKG_CHECK_MODULES([CMOCKA], [cmocka >= 1.1], [],
    [AC_MSG_ERROR([cmocka >= 1.1 not found by pkg-config. On Debian: apt-get install libcmocka-dev])])
])
