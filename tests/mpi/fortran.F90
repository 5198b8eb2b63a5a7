! fortran.F90 - one-sided communication from Fortran, through `use mpi` or,
! built with -DPRMA_F08, through `use mpi_f08`.
!
! A Fortran program reaches MPI through the mpif.h / `use mpi` bindings or
! the mpi_f08 ones, not through the C functions a C test calls.  This
! program makes the one-sided calls a Fortran application makes, through
! one of them (the preprocessor picks the module and the handle types:
! INTEGER, or TYPE(MPI_Win) and the others), and checks the data each of
! them moves, so that a run with Open MPI's osc components excluded shows
! that a Fortran program's RMA is served by portrma.
!
! Checked: window creation (MPI_Win_allocate, MPI_Win_create on MPI_Alloc_mem
! memory and on a Fortran array, MPI_Win_allocate_shared with
! MPI_Win_shared_query, MPI_Win_create_dynamic with attach/detach); put and
! get of INTEGER and DOUBLE PRECISION in fence, PSCW (also ended by an
! MPI_Win_test loop) and passive-target epochs (locks, lock_all, the flushes,
! MPI_Win_sync, an exclusive-lock counter); the accumulate family and the
! request-based operations; window attributes and a user keyval with a
! delete callback; name, group and info; MPI_ERR_RMA_RANGE through
! MPI_ERRORS_RETURN and through a user error handler; MPI_Win_free setting
! the handle to MPI_WIN_NULL.
!
! Every rank targets its right neighbour mod(rank+1, nprocs), so any rank
! count works, 1 included.  The values moved are computed from rank, index
! and a tag (iv, dv), so a wrong, missing or misplaced transfer fails a
! check.  A failed check prints the rank and expected vs got and calls
! MPI_Abort; on success rank 0 prints "fortran_mpi: ok" (or "fortran_f08:
! ok").

#ifdef PRMA_F08
#define MPI_MODULE mpi_f08
#define SUPPORT_MODULE f08_support
#define PROGRAM_NAME fortran_f08
#define PROGRAM_STRING 'fortran_f08'
#define WIN_T type(MPI_Win)
#define GROUP_T type(MPI_Group)
#define INFO_T type(MPI_Info)
#define COMM_T type(MPI_Comm)
#define REQUEST_T type(MPI_Request)
#define ERRHANDLER_T type(MPI_Errhandler)
#define HVAL(h) h%MPI_VAL
#else
#define MPI_MODULE mpi
#define SUPPORT_MODULE fm_support
#define PROGRAM_NAME fortran_mpi
#define PROGRAM_STRING 'fortran_mpi'
#define WIN_T integer
#define GROUP_T integer
#define INFO_T integer
#define COMM_T integer
#define REQUEST_T integer
#define ERRHANDLER_T integer
#define HVAL(h) h
#endif

module SUPPORT_MODULE
  use MPI_MODULE
  use, intrinsic :: iso_c_binding, only: c_ptr, c_f_pointer, c_int
  use, intrinsic :: iso_fortran_env, only: error_unit
  implicit none

  ! The C half of the attribute check across languages (fortran_attr.c).
  interface
    integer(c_int) function c_reads_fortran_attr(win, keyval, want) &
        bind(C, name='prma_c_reads_fortran_attr')
      import :: c_int, MPI_ADDRESS_KIND
      integer(c_int), value :: win, keyval
      integer(MPI_ADDRESS_KIND), value :: want
    end function c_reads_fortran_attr
    integer(c_int) function c_sets_attr(win, keyval, value) bind(C, name='prma_c_sets_attr')
      import :: c_int, MPI_ADDRESS_KIND
      integer(c_int), value :: win, keyval
      integer(MPI_ADDRESS_KIND), value :: value
    end function c_sets_attr
  end interface

  integer, parameter :: dp = kind(1.0d0)
  integer, parameter :: ak = MPI_ADDRESS_KIND
  integer, parameter :: isz = storage_size(0) / 8       ! bytes of an INTEGER
  integer, parameter :: dsz = storage_size(1.0_dp) / 8  ! bytes of a DOUBLE PRECISION
  integer, parameter :: n = 8            ! elements moved by one transfer
  integer, parameter :: sentinel = -7    ! window memory nobody should write
  integer, parameter :: garbage = -9     ! data that must never reach a target
  character(len=*), parameter :: prog = PROGRAM_STRING

  integer :: rank, nprocs, right, left

  ! What the keyval delete callback received (checked by the caller).
  integer :: del_calls = 0, del_keyval = -1
  WIN_T :: del_win = MPI_WIN_NULL
  integer(ak) :: del_val = -1, del_extra = -1

  ! What the user error handler received (checked by the caller).
  integer :: eh_calls = 0, eh_code = MPI_SUCCESS
  WIN_T :: eh_win = MPI_WIN_NULL

contains

  ! ---- values and checks ------------------------------------------------

  ! The value rank r moves as element i of the transfer tagged `tag`.
  elemental integer function iv(r, i, tag)
    integer, intent(in) :: r, i, tag
    iv = 1000000 * tag + 1000 * r + i
  end function iv

  ! Its DOUBLE PRECISION twin (exact in binary, so compared with ==).
  elemental real(dp) function dv(r, i, tag)
    integer, intent(in) :: r, i, tag
    dv = real(iv(r, i, tag), dp) + 0.25_dp
  end function dv

  ! 1, 2, ..., m
  pure function ix(m)
    integer, intent(in) :: m
    integer :: ix(m), i
    ix = [(i, i = 1, m)]
  end function ix

  subroutine fail(msg)
    character(len=*), intent(in) :: msg
    integer :: ierr
    write (error_unit, '(a,": FAIL rank ",i0,": ",a)') prog, rank, msg
    flush (error_unit)
    call MPI_Abort(MPI_COMM_WORLD, 1, ierr)
    error stop 1
  end subroutine fail

  subroutine check(cond, what)
    logical, intent(in) :: cond
    character(len=*), intent(in) :: what
    if (.not. cond) call fail(what)
  end subroutine check

  ! The call reporting `what` returned MPI_SUCCESS.
  subroutine check_ok(ierr, what)
    integer, intent(in) :: ierr
    character(len=*), intent(in) :: what
    character(len=MPI_MAX_ERROR_STRING) :: estr
    character(len=600) :: msg
    integer :: elen, e2
    if (ierr == MPI_SUCCESS) return
    estr = ''
    call MPI_Error_string(ierr, estr, elen, e2)
    write (msg, '(a,": returned ",i0," (",a,")")') what, ierr, trim(estr)
    call fail(trim(msg))
  end subroutine check_ok

  subroutine check_int(got, want, what)
    integer, intent(in) :: got, want
    character(len=*), intent(in) :: what
    call check_aint(int(got, ak), int(want, ak), what)
  end subroutine check_int

  subroutine check_aint(got, want, what)
    integer(ak), intent(in) :: got, want
    character(len=*), intent(in) :: what
    character(len=600) :: msg
    if (got == want) return
    write (msg, '(a,": expected ",i0,", got ",i0)') what, want, got
    call fail(trim(msg))
  end subroutine check_aint

  subroutine check_ints(got, want, what)
    integer, intent(in) :: got(:), want(:)
    character(len=*), intent(in) :: what
    character(len=600) :: msg
    integer :: i
    call check_int(size(got), size(want), what // ' (element count)')
    do i = 1, size(want)
      if (got(i) /= want(i)) then
        write (msg, '(a,": element ",i0,": expected ",i0,", got ",i0)') &
          what, i, want(i), got(i)
        call fail(trim(msg))
      end if
    end do
  end subroutine check_ints

  subroutine check_dbls(got, want, what)
    real(dp), intent(in) :: got(:), want(:)
    character(len=*), intent(in) :: what
    character(len=600) :: msg
    integer :: i
    call check_int(size(got), size(want), what // ' (element count)')
    do i = 1, size(want)
      if (.not. (abs(got(i) - want(i)) <= 0.0_dp)) then   ! exact; a NaN fails too
        write (msg, '(a,": element ",i0,": expected ",f0.2,", got ",f0.2)') &
          what, i, want(i), got(i)
        call fail(trim(msg))
      end if
    end do
  end subroutine check_dbls

  ! The error class of `code` is `want`.
  subroutine check_class(code, want, what)
    integer, intent(in) :: code, want
    character(len=*), intent(in) :: what
    integer :: cls, ierr
    call check(code /= MPI_SUCCESS, what // ': returned MPI_SUCCESS, expected an error')
    call MPI_Error_class(code, cls, ierr)
    call check_ok(ierr, 'MPI_Error_class')
    call check_int(cls, want, what // ': error class')
  end subroutine check_class

  subroutine check_freed(win, what)
    WIN_T, intent(in) :: win
    character(len=*), intent(in) :: what
    call check_int(HVAL(win), HVAL(MPI_WIN_NULL), &
                   what // ': handle after MPI_Win_free (MPI_WIN_NULL)')
  end subroutine check_freed

  ! Predefined attributes of `win`; base, size and disp_unit only if given.
  subroutine check_win_attrs(win, what, flavor, base, wsize, disp_unit)
    WIN_T, intent(in) :: win
    integer, intent(in) :: flavor
    character(len=*), intent(in) :: what
    integer(ak), intent(in), optional :: base, wsize
    integer, intent(in), optional :: disp_unit
    integer(ak) :: val
    character(len=600) :: msg
    if (present(base)) then
      call check_win_attr(win, MPI_WIN_BASE, what // ': MPI_WIN_BASE', val)
      call check_aint(val, base, what // ': MPI_WIN_BASE')
    end if
    if (present(wsize)) then
      call check_win_attr(win, MPI_WIN_SIZE, what // ': MPI_WIN_SIZE', val)
      call check_aint(val, wsize, what // ': MPI_WIN_SIZE')
    end if
    if (present(disp_unit)) then
      call check_win_attr(win, MPI_WIN_DISP_UNIT, what // ': MPI_WIN_DISP_UNIT', val)
      call check_aint(val, int(disp_unit, ak), what // ': MPI_WIN_DISP_UNIT')
    end if
    call check_win_attr(win, MPI_WIN_CREATE_FLAVOR, what // ': MPI_WIN_CREATE_FLAVOR', val)
    call check_aint(val, int(flavor, ak), what // ': MPI_WIN_CREATE_FLAVOR')
    call check_win_attr(win, MPI_WIN_MODEL, what // ': MPI_WIN_MODEL', val)
    if (val /= MPI_WIN_UNIFIED .and. val /= MPI_WIN_SEPARATE) then
      write (msg, '(a,": MPI_WIN_MODEL: expected ",i0," (MPI_WIN_UNIFIED) or ",i0, &
                  &" (MPI_WIN_SEPARATE), got ",i0)') what, MPI_WIN_UNIFIED, MPI_WIN_SEPARATE, val
      call fail(trim(msg))
    end if
  end subroutine check_win_attrs

  ! One predefined attribute: the call succeeds and finds it set.
  subroutine check_win_attr(win, keyval, what, val)
    WIN_T, intent(in) :: win
    integer, intent(in) :: keyval
    character(len=*), intent(in) :: what
    integer(ak), intent(out) :: val
    logical :: flag
    integer :: ierr
    call MPI_Win_get_attr(win, keyval, val, flag, ierr)
    call check_ok(ierr, 'get ' // what)
    call check(flag, what // ' not set')
  end subroutine check_win_attr

  ! ---- callbacks --------------------------------------------------------

  ! Delete callback of the user keyval: records what it receives.
  subroutine del_fn(win, keyval, attribute_val, extra_state, ierror)
    WIN_T :: win
    integer :: keyval, ierror
    integer(ak) :: attribute_val, extra_state
    del_calls = del_calls + 1
    del_win = win
    del_keyval = keyval
    del_val = attribute_val
    del_extra = extra_state
    ierror = MPI_SUCCESS
  end subroutine del_fn

  ! User error handler: records what it receives and returns.
  subroutine eh_fn(win, error_code)
    WIN_T :: win
    integer :: error_code
    eh_calls = eh_calls + 1
    eh_win = win
    eh_code = error_code
  end subroutine eh_fn

  ! ---- tests ------------------------------------------------------------

  ! MPI_Win_allocate (disp_unit 4): INTEGER put, then get, in fence epochs.
  subroutine test_allocate_fence()
    integer, parameter :: disp = 3
    type(c_ptr) :: baseptr
    integer, pointer, contiguous, asynchronous :: wa(:)
    integer, asynchronous :: src(n), got(n)
    integer :: want(2*n), ierr
    WIN_T :: win
    integer(ak) :: wsize

    wsize = int(2 * n * isz, ak)
    call MPI_Win_allocate(wsize, isz, MPI_INFO_NULL, MPI_COMM_WORLD, baseptr, win, ierr)
    call check_ok(ierr, 'MPI_Win_allocate')
    call c_f_pointer(baseptr, wa, [2 * n])
    call check_win_attrs(win, 'MPI_Win_allocate window', MPI_WIN_FLAVOR_ALLOCATE, &
                         transfer(baseptr, 0_ak), wsize, isz)
    wa = sentinel
    src = iv(rank, ix(n), 1)
    got = sentinel

    call MPI_Win_fence(MPI_MODE_NOPRECEDE, win, ierr)
    call check_ok(ierr, 'fence (NOPRECEDE)')
    call MPI_Put(src, n, MPI_INTEGER, right, int(disp, ak), n, MPI_INTEGER, win, ierr)
    call check_ok(ierr, 'MPI_Put INTEGER (fence)')
    call MPI_Win_fence(0, win, ierr)
    call check_ok(ierr, 'fence')
    want = sentinel
    want(disp + 1:disp + n) = iv(left, ix(n), 1)
    call check_ints(wa, want, 'allocate window after fence put')

    call MPI_Get(got, n, MPI_INTEGER, right, int(disp, ak), n, MPI_INTEGER, win, ierr)
    call check_ok(ierr, 'MPI_Get INTEGER (fence)')
    call MPI_Win_fence(MPI_MODE_NOSUCCEED, win, ierr)
    call check_ok(ierr, 'fence (NOSUCCEED)')
    call check_ints(got, iv(rank, ix(n), 1), 'fence get INTEGER')

    call MPI_Win_free(win, ierr)
    call check_ok(ierr, 'MPI_Win_free')
    call check_freed(win, 'allocate window')
  end subroutine test_allocate_fence

  ! MPI_Win_create on MPI_Alloc_mem memory (disp_unit 8): DOUBLE PRECISION
  ! put and get in fence epochs; MPI_Free_mem after MPI_Win_free.
  subroutine test_allocmem_fence()
    integer, parameter :: disp = 5
    type(c_ptr) :: mem
    real(dp), pointer, contiguous, asynchronous :: da(:)
    real(dp), asynchronous :: src(n), got(n)
    real(dp) :: want(2*n)
    WIN_T :: win
    integer :: ierr
    integer(ak) :: wsize

    wsize = int(2 * n * dsz, ak)
    call MPI_Alloc_mem(wsize, MPI_INFO_NULL, mem, ierr)
    call check_ok(ierr, 'MPI_Alloc_mem')
    call c_f_pointer(mem, da, [2 * n])
    da = real(sentinel, dp)
    call MPI_Win_create(da, wsize, dsz, MPI_INFO_NULL, MPI_COMM_WORLD, win, ierr)
    call check_ok(ierr, 'MPI_Win_create (MPI_Alloc_mem memory)')
    call check_win_attrs(win, 'MPI_Alloc_mem window', MPI_WIN_FLAVOR_CREATE, &
                         transfer(mem, 0_ak), wsize, dsz)
    src = dv(rank, ix(n), 2)
    got = real(sentinel, dp)

    call MPI_Win_fence(MPI_MODE_NOPRECEDE, win, ierr)
    call check_ok(ierr, 'fence (NOPRECEDE)')
    call MPI_Put(src, n, MPI_DOUBLE_PRECISION, right, int(disp, ak), n, &
                 MPI_DOUBLE_PRECISION, win, ierr)
    call check_ok(ierr, 'MPI_Put DOUBLE PRECISION (fence)')
    call MPI_Win_fence(0, win, ierr)
    call check_ok(ierr, 'fence')
    want = real(sentinel, dp)
    want(disp + 1:disp + n) = dv(left, ix(n), 2)
    call check_dbls(da, want, 'MPI_Alloc_mem window after fence put')

    call MPI_Get(got, n, MPI_DOUBLE_PRECISION, right, int(disp, ak), n, &
                 MPI_DOUBLE_PRECISION, win, ierr)
    call check_ok(ierr, 'MPI_Get DOUBLE PRECISION (fence)')
    call MPI_Win_fence(MPI_MODE_NOSUCCEED, win, ierr)
    call check_ok(ierr, 'fence (NOSUCCEED)')
    call check_dbls(got, dv(rank, ix(n), 2), 'fence get DOUBLE PRECISION')

    call MPI_Win_free(win, ierr)
    call check_ok(ierr, 'MPI_Win_free')
    call check_freed(win, 'MPI_Alloc_mem window')
    call MPI_Free_mem(da, ierr)
    call check_ok(ierr, 'MPI_Free_mem')
  end subroutine test_allocmem_fence

  ! Name, group, info and a user keyval on `win`.  The keyval's attribute
  ! is left set: MPI_Win_free must delete it (checked by the caller).
  subroutine test_win_objects(win, keyval)
    WIN_T, intent(in) :: win
    integer, intent(out) :: keyval
    character(len=*), parameter :: wname = 'portrma Fortran window'
    character(len=MPI_MAX_OBJECT_NAME) :: name
    integer(ak), parameter :: extra = 4242
    integer(ak) :: val
    logical :: flag
    integer :: ierr, rlen, gsize, grank, cmp, nkeys
    GROUP_T :: grp, world_grp
    INFO_T :: info, info_used

    ! name round trip
    call MPI_Win_set_name(win, wname, ierr)
    call check_ok(ierr, 'MPI_Win_set_name')
    name = 'garbage'
    call MPI_Win_get_name(win, name, rlen, ierr)
    call check_ok(ierr, 'MPI_Win_get_name')
    call check(trim(name) == wname, 'MPI_Win_get_name: expected "' // wname // &
               '", got "' // trim(name) // '"')
    call check_int(rlen, len_trim(wname), 'MPI_Win_get_name resultlen')

    ! group of the window = the group of MPI_COMM_WORLD
    call MPI_Win_get_group(win, grp, ierr)
    call check_ok(ierr, 'MPI_Win_get_group')
    call MPI_Group_size(grp, gsize, ierr)
    call check_ok(ierr, 'MPI_Group_size')
    call check_int(gsize, nprocs, 'window group size')
    call MPI_Group_rank(grp, grank, ierr)
    call check_ok(ierr, 'MPI_Group_rank')
    call check_int(grank, rank, 'rank in the window group')
    call MPI_Comm_group(MPI_COMM_WORLD, world_grp, ierr)
    call check_ok(ierr, 'MPI_Comm_group')
    call MPI_Group_compare(grp, world_grp, cmp, ierr)
    call check_ok(ierr, 'MPI_Group_compare')
    call check_int(cmp, MPI_IDENT, 'window group compared with the world group')
    call MPI_Group_free(grp, ierr)
    call check_ok(ierr, 'MPI_Group_free (window group)')
    call check_int(HVAL(grp), HVAL(MPI_GROUP_NULL), &
                   'handle after MPI_Group_free (MPI_GROUP_NULL)')
    call MPI_Group_free(world_grp, ierr)
    call check_ok(ierr, 'MPI_Group_free (world group)')

    ! info: set, then get a valid info object back
    call MPI_Info_create(info, ierr)
    call check_ok(ierr, 'MPI_Info_create')
    call MPI_Info_set(info, 'portrma_fortran_test', 'yes', ierr)
    call check_ok(ierr, 'MPI_Info_set')
    call MPI_Win_set_info(win, info, ierr)
    call check_ok(ierr, 'MPI_Win_set_info')
    call MPI_Win_get_info(win, info_used, ierr)
    call check_ok(ierr, 'MPI_Win_get_info')
    call check(info_used /= MPI_INFO_NULL, 'MPI_Win_get_info returned MPI_INFO_NULL')
    nkeys = -1
    call MPI_Info_get_nkeys(info_used, nkeys, ierr)
    call check_ok(ierr, 'MPI_Info_get_nkeys on the info of MPI_Win_get_info')
    call check(nkeys >= 0, 'MPI_Info_get_nkeys: negative key count')
    call MPI_Info_free(info_used, ierr)
    call check_ok(ierr, 'MPI_Info_free (info used)')
    call MPI_Info_free(info, ierr)
    call check_ok(ierr, 'MPI_Info_free')
    call check_int(HVAL(info), HVAL(MPI_INFO_NULL), &
                   'handle after MPI_Info_free (MPI_INFO_NULL)')
    call check_int(HVAL(info_used), HVAL(MPI_INFO_NULL), &
                   'handle after MPI_Info_free (MPI_INFO_NULL)')

    ! user keyval with a delete callback
    call MPI_Win_create_keyval(MPI_WIN_NULL_COPY_FN, del_fn, keyval, extra, ierr)
    call check_ok(ierr, 'MPI_Win_create_keyval')
    val = -1
    flag = .true.
    call MPI_Win_get_attr(win, keyval, val, flag, ierr)
    call check_ok(ierr, 'MPI_Win_get_attr (unset key)')
    call check(.not. flag, 'MPI_Win_get_attr of an unset key returned flag = .true.')
    call MPI_Win_set_attr(win, keyval, int(777 + rank, ak), ierr)
    call check_ok(ierr, 'MPI_Win_set_attr')
    call MPI_Win_get_attr(win, keyval, val, flag, ierr)
    call check_ok(ierr, 'MPI_Win_get_attr')
    call check(flag, 'MPI_Win_get_attr of a set key returned flag = .false.')
    call check_aint(val, int(777 + rank, ak), 'MPI_Win_get_attr value')
    ! the same attribute read in C: a pointer to the integer (MPI-3.1 17.2.7)
    call check(c_reads_fortran_attr(HVAL(win), keyval, int(777 + rank, ak)) == 1, &
               'C read of the attribute set in Fortran (fortran_attr.c says why)')
    del_calls = 0
    call MPI_Win_delete_attr(win, keyval, ierr)
    call check_ok(ierr, 'MPI_Win_delete_attr')
    call check_int(del_calls, 1, 'delete callback calls after MPI_Win_delete_attr')
    call check_int(HVAL(del_win), HVAL(win), 'delete callback window handle')
    call check_int(del_keyval, keyval, 'delete callback keyval')
    call check_aint(del_val, int(777 + rank, ak), 'delete callback attribute value')
    call check_aint(del_extra, extra, 'delete callback extra_state')
    call MPI_Win_get_attr(win, keyval, val, flag, ierr)
    call check_ok(ierr, 'MPI_Win_get_attr (deleted key)')
    call check(.not. flag, 'MPI_Win_get_attr of a deleted key returned flag = .true.')
    ! set in C (a pointer), read in Fortran: the pointer's value
    call check(c_sets_attr(HVAL(win), keyval, int(555 + rank, ak)) == 1, 'C set of the attribute')
    call MPI_Win_get_attr(win, keyval, val, flag, ierr)
    call check_ok(ierr, 'MPI_Win_get_attr (set in C)')
    call check(flag, 'MPI_Win_get_attr of a key set in C returned flag = .false.')
    call check_aint(val, int(555 + rank, ak), 'MPI_Win_get_attr value (set in C)')
    call MPI_Win_set_attr(win, keyval, int(888 + rank, ak), ierr)
    call check_ok(ierr, 'MPI_Win_set_attr (again)')
  end subroutine test_win_objects

  ! MPI_Win_create on a Fortran array: put and get in PSCW epochs with
  ! neighbour groups, the second exposure ended by an MPI_Win_test loop;
  ! then test_win_objects, whose attribute MPI_Win_free must delete.
  subroutine test_array_pscw()
    integer, parameter :: disp = 2
    integer, target, asynchronous :: pa(2*n)
    integer, asynchronous :: src(n), got(n)
    integer :: want(2*n), ierr, keyval
    WIN_T :: win, freed_win
    GROUP_T :: world_grp, to_grp, from_grp
    integer(ak) :: addr
    logical :: flag
    double precision :: t0

    pa = sentinel
    call MPI_Win_create(pa, int(2 * n * isz, ak), isz, MPI_INFO_NULL, MPI_COMM_WORLD, win, ierr)
    call check_ok(ierr, 'MPI_Win_create (Fortran array)')
    call MPI_Get_address(pa, addr, ierr)
    call check_ok(ierr, 'MPI_Get_address')
    call check_win_attrs(win, 'Fortran array window', MPI_WIN_FLAVOR_CREATE, &
                         addr, int(2 * n * isz, ak), isz)

    call MPI_Comm_group(MPI_COMM_WORLD, world_grp, ierr)
    call check_ok(ierr, 'MPI_Comm_group')
    call MPI_Group_incl(world_grp, 1, [right], to_grp, ierr)
    call check_ok(ierr, 'MPI_Group_incl (right)')
    call MPI_Group_incl(world_grp, 1, [left], from_grp, ierr)
    call check_ok(ierr, 'MPI_Group_incl (left)')

    ! epoch 1: put into the right neighbour, exposure ended by MPI_Win_wait
    src = iv(rank, ix(n), 3)
    call MPI_Win_post(from_grp, 0, win, ierr)
    call check_ok(ierr, 'MPI_Win_post')
    call MPI_Win_start(to_grp, 0, win, ierr)
    call check_ok(ierr, 'MPI_Win_start')
    call MPI_Put(src, n, MPI_INTEGER, right, int(disp, ak), n, MPI_INTEGER, win, ierr)
    call check_ok(ierr, 'MPI_Put (PSCW)')
    call MPI_Win_complete(win, ierr)
    call check_ok(ierr, 'MPI_Win_complete')
    call MPI_Win_wait(win, ierr)
    call check_ok(ierr, 'MPI_Win_wait')
    want = sentinel
    want(disp + 1:disp + n) = iv(left, ix(n), 3)
    call check_ints(pa, want, 'Fortran array window after PSCW put')

    ! epoch 2: get it back, exposure ended by polling MPI_Win_test
    got = sentinel
    call MPI_Win_post(from_grp, 0, win, ierr)
    call check_ok(ierr, 'MPI_Win_post (2)')
    call MPI_Win_start(to_grp, 0, win, ierr)
    call check_ok(ierr, 'MPI_Win_start (2)')
    call MPI_Get(got, n, MPI_INTEGER, right, int(disp, ak), n, MPI_INTEGER, win, ierr)
    call check_ok(ierr, 'MPI_Get (PSCW)')
    call MPI_Win_complete(win, ierr)
    call check_ok(ierr, 'MPI_Win_complete (2)')
    t0 = MPI_Wtime()
    do
      flag = .false.
      call MPI_Win_test(win, flag, ierr)
      call check_ok(ierr, 'MPI_Win_test')
      if (flag) exit
      if (MPI_Wtime() - t0 > 30.0d0) call fail('MPI_Win_test still .false. after 30 s')
    end do
    call check_ints(got, iv(rank, ix(n), 3), 'PSCW get')
    call check_ints(pa, want, 'Fortran array window after PSCW get')

    call MPI_Group_free(to_grp, ierr)
    call check_ok(ierr, 'MPI_Group_free')
    call MPI_Group_free(from_grp, ierr)
    call check_ok(ierr, 'MPI_Group_free')
    call MPI_Group_free(world_grp, ierr)
    call check_ok(ierr, 'MPI_Group_free')

    call test_win_objects(win, keyval)
    del_calls = 0
    freed_win = win
    call MPI_Win_free(win, ierr)
    call check_ok(ierr, 'MPI_Win_free')
    call check_freed(win, 'Fortran array window')
    call check_int(del_calls, 1, 'delete callback calls by MPI_Win_free')
    call check_int(HVAL(del_win), HVAL(freed_win), &
                   'delete callback window handle (MPI_Win_free)')
    call check_aint(del_val, int(888 + rank, ak), &
                    'delete callback attribute value (MPI_Win_free)')
    call check_aint(del_extra, 4242_ak, 'delete callback extra_state (MPI_Win_free)')
    call MPI_Win_free_keyval(keyval, ierr)
    call check_ok(ierr, 'MPI_Win_free_keyval')
    call check_int(keyval, MPI_KEYVAL_INVALID, &
                   'keyval after MPI_Win_free_keyval (MPI_KEYVAL_INVALID)')
  end subroutine test_array_pscw

  ! MPI_Win_allocate_shared on the ranks of this node (MPI_Comm_split_type):
  ! every rank stores into its own segment; after MPI_Win_sync and a barrier
  ! the right neighbour's segment (and node rank 0's, through MPI_PROC_NULL)
  ! is read through the pointer MPI_Win_shared_query returns.
  subroutine test_shared()
    type(c_ptr) :: baseptr, qptr
    integer, pointer, contiguous, asynchronous :: mine(:), theirs(:)
    COMM_T :: node
    WIN_T :: win
    integer :: ierr, qdisp, nrank, nsize, nright
    integer(ak) :: wsize, qsize

    call MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, node, ierr)
    call check_ok(ierr, 'MPI_Comm_split_type')
    call MPI_Comm_rank(node, nrank, ierr)
    call MPI_Comm_size(node, nsize, ierr)
    nright = mod(nrank + 1, nsize)

    wsize = int(n * isz, ak)
    call MPI_Win_allocate_shared(wsize, isz, MPI_INFO_NULL, node, baseptr, win, ierr)
    call check_ok(ierr, 'MPI_Win_allocate_shared')
    call c_f_pointer(baseptr, mine, [n])
    call check_win_attrs(win, 'shared window', MPI_WIN_FLAVOR_SHARED, &
                         transfer(baseptr, 0_ak), wsize, isz)

    call MPI_Win_lock_all(0, win, ierr)
    call check_ok(ierr, 'MPI_Win_lock_all (shared window)')
    mine = iv(nrank, ix(n), 4)
    call MPI_Win_sync(win, ierr)
    call check_ok(ierr, 'MPI_Win_sync')
    call MPI_Barrier(node, ierr)
    call MPI_Win_sync(win, ierr)
    call check_ok(ierr, 'MPI_Win_sync')

    call MPI_Win_shared_query(win, nrank, qsize, qdisp, qptr, ierr)
    call check_ok(ierr, 'MPI_Win_shared_query (own rank)')
    call check_aint(transfer(qptr, 0_ak), transfer(baseptr, 0_ak), &
                    'MPI_Win_shared_query (own rank) address')
    call MPI_Win_shared_query(win, nright, qsize, qdisp, qptr, ierr)
    call check_ok(ierr, 'MPI_Win_shared_query (right)')
    call check_aint(qsize, wsize, 'MPI_Win_shared_query size')
    call check_int(qdisp, isz, 'MPI_Win_shared_query disp_unit')
    call c_f_pointer(qptr, theirs, [n])
    call check_ints(theirs, iv(nright, ix(n), 4), &
                    'right segment read through MPI_Win_shared_query')
    call MPI_Win_shared_query(win, MPI_PROC_NULL, qsize, qdisp, qptr, ierr)
    call check_ok(ierr, 'MPI_Win_shared_query (MPI_PROC_NULL)')
    call check_aint(qsize, wsize, 'MPI_Win_shared_query (MPI_PROC_NULL) size')
    call c_f_pointer(qptr, theirs, [n])
    call check_ints(theirs, iv(0, ix(n), 4), &
                    'node rank 0 segment read through MPI_PROC_NULL query')
    call MPI_Win_unlock_all(win, ierr)
    call check_ok(ierr, 'MPI_Win_unlock_all (shared window)')
    call MPI_Barrier(node, ierr)

    call MPI_Win_free(win, ierr)
    call check_ok(ierr, 'MPI_Win_free')
    call check_freed(win, 'shared window')
    call MPI_Comm_free(node, ierr)
    call check_ok(ierr, 'MPI_Comm_free')
  end subroutine test_shared

  ! MPI_Win_create_dynamic: attach an array, exchange its address with
  ! MPI_Get_address + MPI_Allgather and use it as target_disp.
  subroutine test_dynamic()
    integer, parameter :: off = 2   ! elements skipped at the start of the target
    integer, allocatable, target, asynchronous :: dyn(:)
    integer, asynchronous :: src(n - off), got(n - off)
    integer :: want(n), ierr
    WIN_T :: win
    integer(ak) :: addr, addrs(0:nprocs - 1), tdisp

    allocate (dyn(n))
    dyn = sentinel
    call MPI_Win_create_dynamic(MPI_INFO_NULL, MPI_COMM_WORLD, win, ierr)
    call check_ok(ierr, 'MPI_Win_create_dynamic')
    call check_win_attrs(win, 'dynamic window', MPI_WIN_FLAVOR_DYNAMIC)
    call MPI_Win_attach(win, dyn, int(n * isz, ak), ierr)
    call check_ok(ierr, 'MPI_Win_attach')
    call MPI_Get_address(dyn, addr, ierr)
    call check_ok(ierr, 'MPI_Get_address')
    call MPI_Allgather(addr, 1, MPI_AINT, addrs, 1, MPI_AINT, MPI_COMM_WORLD, ierr)
    call check_ok(ierr, 'MPI_Allgather (addresses)')
    call check_aint(addrs(rank), addr, 'own address after MPI_Allgather')

    src = iv(rank, ix(n - off), 5)
    got = sentinel
    tdisp = addrs(right) + off * isz
    call MPI_Win_lock_all(0, win, ierr)
    call check_ok(ierr, 'MPI_Win_lock_all (dynamic)')
    call MPI_Put(src, n - off, MPI_INTEGER, right, tdisp, n - off, MPI_INTEGER, win, ierr)
    call check_ok(ierr, 'MPI_Put (dynamic)')
    call MPI_Win_flush(right, win, ierr)
    call check_ok(ierr, 'MPI_Win_flush (dynamic)')
    call MPI_Get(got, n - off, MPI_INTEGER, right, tdisp, n - off, MPI_INTEGER, win, ierr)
    call check_ok(ierr, 'MPI_Get (dynamic)')
    call MPI_Win_unlock_all(win, ierr)
    call check_ok(ierr, 'MPI_Win_unlock_all (dynamic)')
    call check_ints(got, src, 'dynamic window get after put')

    call MPI_Barrier(MPI_COMM_WORLD, ierr)
    call MPI_Win_lock_all(0, win, ierr)
    call check_ok(ierr, 'MPI_Win_lock_all (dynamic, 2)')
    call MPI_Win_sync(win, ierr)
    call check_ok(ierr, 'MPI_Win_sync (dynamic)')
    want = sentinel
    want(off + 1:) = iv(left, ix(n - off), 5)
    call check_ints(dyn, want, 'attached array after the put of the left neighbour')
    call MPI_Win_unlock_all(win, ierr)
    call check_ok(ierr, 'MPI_Win_unlock_all (dynamic, 2)')

    call MPI_Barrier(MPI_COMM_WORLD, ierr)
    call MPI_Win_detach(win, dyn, ierr)
    call check_ok(ierr, 'MPI_Win_detach')
    call MPI_Win_free(win, ierr)
    call check_ok(ierr, 'MPI_Win_free')
    call check_freed(win, 'dynamic window')
    deallocate (dyn)
  end subroutine test_dynamic

  ! Passive target on an MPI_Win_allocate window of 4 regions of n:
  ! A written by the left neighbour (put, MPI_Win_flush_local),
  ! B written by the right neighbour (put, MPI_Win_flush_local_all),
  ! C written by the left neighbour under an exclusive lock, D untouched.
  subroutine test_passive()
    type(c_ptr) :: baseptr
    integer, pointer, contiguous, asynchronous :: wa(:)
    integer, asynchronous :: srca(n), srcb(n), srcc(n), got(n), gall(4*n)
    integer :: want(4*n), ierr
    WIN_T :: win

    call MPI_Win_allocate(int(4 * n * isz, ak), isz, MPI_INFO_NULL, MPI_COMM_WORLD, &
                          baseptr, win, ierr)
    call check_ok(ierr, 'MPI_Win_allocate (passive)')
    call c_f_pointer(baseptr, wa, [4 * n])
    call MPI_Win_lock(MPI_LOCK_EXCLUSIVE, rank, 0, win, ierr)
    call check_ok(ierr, 'MPI_Win_lock (exclusive, self)')
    wa = sentinel
    call MPI_Win_unlock(rank, win, ierr)
    call check_ok(ierr, 'MPI_Win_unlock (self)')
    call MPI_Barrier(MPI_COMM_WORLD, ierr)

    ! C: exclusive lock, put, flush, get back
    srcc = iv(rank, ix(n), 6)
    got = sentinel
    call MPI_Win_lock(MPI_LOCK_EXCLUSIVE, right, 0, win, ierr)
    call check_ok(ierr, 'MPI_Win_lock (exclusive)')
    call MPI_Put(srcc, n, MPI_INTEGER, right, int(2 * n, ak), n, MPI_INTEGER, win, ierr)
    call check_ok(ierr, 'MPI_Put (exclusive lock)')
    call MPI_Win_flush(right, win, ierr)
    call check_ok(ierr, 'MPI_Win_flush')
    call MPI_Get(got, n, MPI_INTEGER, right, int(2 * n, ak), n, MPI_INTEGER, win, ierr)
    call check_ok(ierr, 'MPI_Get (exclusive lock)')
    call MPI_Win_unlock(right, win, ierr)
    call check_ok(ierr, 'MPI_Win_unlock')
    call check_ints(got, srcc, 'get after put and flush under an exclusive lock')

    ! A and B: lock_all, puts completed locally, then remotely, then gets
    srca = iv(rank, ix(n), 7)
    srcb = iv(rank, ix(n), 8)
    call MPI_Win_lock_all(0, win, ierr)
    call check_ok(ierr, 'MPI_Win_lock_all')
    call MPI_Put(srca, n, MPI_INTEGER, right, 0_ak, n, MPI_INTEGER, win, ierr)
    call check_ok(ierr, 'MPI_Put (lock_all, A)')
    call MPI_Win_flush_local(right, win, ierr)
    call check_ok(ierr, 'MPI_Win_flush_local')
    srca = garbage      ! the origin buffer is free again
    call MPI_Put(srcb, n, MPI_INTEGER, left, int(n, ak), n, MPI_INTEGER, win, ierr)
    call check_ok(ierr, 'MPI_Put (lock_all, B)')
    call MPI_Win_flush_local_all(win, ierr)
    call check_ok(ierr, 'MPI_Win_flush_local_all')
    srcb = garbage
    call MPI_Win_flush_all(win, ierr)
    call check_ok(ierr, 'MPI_Win_flush_all')
    got = sentinel
    call MPI_Get(got, n, MPI_INTEGER, right, 0_ak, n, MPI_INTEGER, win, ierr)
    call check_ok(ierr, 'MPI_Get (lock_all, A)')
    call MPI_Win_flush(right, win, ierr)
    call check_ok(ierr, 'MPI_Win_flush (A)')
    call check_ints(got, iv(rank, ix(n), 7), &
                    'get of region A after flush_local + flush_all')
    got = sentinel
    call MPI_Get(got, n, MPI_INTEGER, left, int(n, ak), n, MPI_INTEGER, win, ierr)
    call check_ok(ierr, 'MPI_Get (lock_all, B)')
    call MPI_Win_flush_all(win, ierr)
    call check_ok(ierr, 'MPI_Win_flush_all (B)')
    call check_ints(got, iv(rank, ix(n), 8), &
                    'get of region B after flush_local_all + flush_all')
    call MPI_Win_unlock_all(win, ierr)
    call check_ok(ierr, 'MPI_Win_unlock_all')
    call MPI_Barrier(MPI_COMM_WORLD, ierr)

    ! the whole right window through a shared lock
    gall = sentinel
    call MPI_Win_lock(MPI_LOCK_SHARED, right, 0, win, ierr)
    call check_ok(ierr, 'MPI_Win_lock (shared)')
    call MPI_Get(gall, 4 * n, MPI_INTEGER, right, 0_ak, 4 * n, MPI_INTEGER, win, ierr)
    call check_ok(ierr, 'MPI_Get (shared lock)')
    call MPI_Win_unlock(right, win, ierr)
    call check_ok(ierr, 'MPI_Win_unlock (shared)')
    want = sentinel
    want(1:n) = iv(rank, ix(n), 7)
    want(n + 1:2 * n) = iv(mod(rank + 2, nprocs), ix(n), 8)
    want(2 * n + 1:3 * n) = iv(rank, ix(n), 6)
    call check_ints(gall, want, 'right window read under a shared lock')

    ! own window memory, loaded directly after MPI_Win_sync
    call MPI_Win_lock(MPI_LOCK_SHARED, rank, 0, win, ierr)
    call check_ok(ierr, 'MPI_Win_lock (shared, self)')
    call MPI_Win_sync(win, ierr)
    call check_ok(ierr, 'MPI_Win_sync')
    want = sentinel
    want(1:n) = iv(left, ix(n), 7)
    want(n + 1:2 * n) = iv(right, ix(n), 8)
    want(2 * n + 1:3 * n) = iv(left, ix(n), 6)
    call check_ints(wa, want, 'own window after the passive-target puts')
    call MPI_Win_unlock(rank, win, ierr)
    call check_ok(ierr, 'MPI_Win_unlock (shared, self)')
    call MPI_Barrier(MPI_COMM_WORLD, ierr)

    call MPI_Win_free(win, ierr)
    call check_ok(ierr, 'MPI_Win_free')
    call check_freed(win, 'passive window')
  end subroutine test_passive

  ! Counters on rank 0 under exclusive locks: MPI_Accumulate(MPI_SUM) of 1
  ! and of rank+1, and a get / increment / put that only mutual exclusion
  ! keeps from losing updates.
  subroutine test_counter()
    integer, parameter :: iters = 20
    type(c_ptr) :: baseptr
    integer, pointer, contiguous, asynchronous :: cnt(:)
    integer, asynchronous :: one, mine, cur, res(3)
    WIN_T :: win
    integer :: ierr, it
    integer(ak) :: wsize

    wsize = 0
    if (rank == 0) wsize = int(3 * isz, ak)
    call MPI_Win_allocate(wsize, isz, MPI_INFO_NULL, MPI_COMM_WORLD, baseptr, win, ierr)
    call check_ok(ierr, 'MPI_Win_allocate (counter)')
    if (rank == 0) then
      call c_f_pointer(baseptr, cnt, [3])
      call MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, win, ierr)
      call check_ok(ierr, 'MPI_Win_lock (counter init)')
      cnt = 0
      call MPI_Win_unlock(0, win, ierr)
      call check_ok(ierr, 'MPI_Win_unlock (counter init)')
    end if
    call MPI_Barrier(MPI_COMM_WORLD, ierr)

    one = 1
    mine = rank + 1
    do it = 1, iters
      call MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, win, ierr)
      call check_ok(ierr, 'MPI_Win_lock (counter)')
      call MPI_Accumulate(one, 1, MPI_INTEGER, 0, 0_ak, 1, MPI_INTEGER, MPI_SUM, win, ierr)
      call check_ok(ierr, 'MPI_Accumulate (counter)')
      call MPI_Accumulate(mine, 1, MPI_INTEGER, 0, 1_ak, 1, MPI_INTEGER, MPI_SUM, win, ierr)
      call check_ok(ierr, 'MPI_Accumulate (counter 2)')
      call MPI_Get(cur, 1, MPI_INTEGER, 0, 2_ak, 1, MPI_INTEGER, win, ierr)
      call check_ok(ierr, 'MPI_Get (counter 3)')
      call MPI_Win_flush(0, win, ierr)
      call check_ok(ierr, 'MPI_Win_flush (counter 3)')
      cur = cur + 1
      call MPI_Put(cur, 1, MPI_INTEGER, 0, 2_ak, 1, MPI_INTEGER, win, ierr)
      call check_ok(ierr, 'MPI_Put (counter 3)')
      call MPI_Win_unlock(0, win, ierr)
      call check_ok(ierr, 'MPI_Win_unlock (counter)')
    end do
    call MPI_Barrier(MPI_COMM_WORLD, ierr)

    if (rank == 0) then
      res = -1
      call MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win, ierr)
      call check_ok(ierr, 'MPI_Win_lock (counter read)')
      call MPI_Get(res, 3, MPI_INTEGER, 0, 0_ak, 3, MPI_INTEGER, win, ierr)
      call check_ok(ierr, 'MPI_Get (counter read)')
      call MPI_Win_unlock(0, win, ierr)
      call check_ok(ierr, 'MPI_Win_unlock (counter read)')
      call check_int(res(1), iters * nprocs, 'counter (MPI_Accumulate of 1)')
      call check_int(res(2), iters * nprocs * (nprocs + 1) / 2, &
                     'counter (MPI_Accumulate of rank+1)')
      call check_int(res(3), iters * nprocs, 'counter (get + put under exclusive lock)')
    end if
    call MPI_Barrier(MPI_COMM_WORLD, ierr)
    call MPI_Win_free(win, ierr)
    call check_ok(ierr, 'MPI_Win_free')
    call check_freed(win, 'counter window')
  end subroutine test_counter

  ! MPI_MAX operands: the initial value wins for large i, the incoming one
  ! for small i.
  elemental integer function mx_init(r, i)
    integer, intent(in) :: r, i
    mx_init = 100 * i + r
  end function mx_init

  elemental integer function mx_in(r, i)
    integer, intent(in) :: r, i
    mx_in = 100 * (n + 1 - i) + 50 + r
  end function mx_in

  ! The accumulate family.  Integer window regions of n (disp_unit 4):
  !  1 MPI_Accumulate SUM   2 MPI_Accumulate MAX   3 MPI_Get_accumulate SUM
  !  4 MPI_Fetch_and_op (element 1), MPI_Compare_and_swap (element 2)
  !  5 MPI_Rput   6 MPI_Rget source   7 MPI_Raccumulate   8 MPI_Rget_accumulate
  ! Double window (disp_unit 8): 1 MPI_Accumulate SUM   2 MPI_Accumulate MAX
  subroutine test_accumulate()
    type(c_ptr) :: iptr, dptr
    integer, pointer, contiguous, asynchronous :: wi(:)
    real(dp), pointer, contiguous, asynchronous :: wd(:)
    integer, asynchronous :: isum(n), imax(n), iadd(n), ires(n), rput(n), rget(n), racc(n), &
                             rgacc(n), rgres(n), fop, fres, cas_new, cas_cmp, cas_res
    real(dp), asynchronous :: dsum(n), dmax(n)
    WIN_T :: winwi, winwd
    REQUEST_T :: reqs(4)
    integer :: ierr, i
    integer(ak), parameter :: r4 = 3 * n, r5 = 4 * n, r6 = 5 * n, r7 = 6 * n, r8 = 7 * n

    call MPI_Win_allocate(int(8 * n * isz, ak), isz, MPI_INFO_NULL, MPI_COMM_WORLD, &
                          iptr, winwi, ierr)
    call check_ok(ierr, 'MPI_Win_allocate (accumulate, INTEGER)')
    call c_f_pointer(iptr, wi, [8 * n])
    call MPI_Win_allocate(int(2 * n * dsz, ak), dsz, MPI_INFO_NULL, MPI_COMM_WORLD, &
                          dptr, winwd, ierr)
    call check_ok(ierr, 'MPI_Win_allocate (accumulate, DOUBLE PRECISION)')
    call c_f_pointer(dptr, wd, [2 * n])

    wi = sentinel
    wi(1:n) = iv(rank, ix(n), 10)
    wi(n + 1:2 * n) = mx_init(rank, ix(n))
    wi(2 * n + 1:3 * n) = iv(rank, ix(n), 11)
    wi(r4 + 1) = iv(rank, 0, 12)
    wi(r4 + 2) = iv(rank, 0, 13)
    wi(r6 + 1:r6 + n) = iv(rank, ix(n), 14)
    wi(r7 + 1:r7 + n) = iv(rank, ix(n), 15)
    wi(r8 + 1:r8 + n) = iv(rank, ix(n), 16)
    wd(1:n) = dv(rank, ix(n), 17)
    wd(n + 1:2 * n) = real(mx_init(rank, ix(n)), dp) + 0.5_dp

    ! fence epoch: accumulate SUM / MAX on both types, get_accumulate
    isum = iv(rank, ix(n), 1)
    imax = mx_in(rank, ix(n))
    iadd = 3 * ix(n)
    ires = sentinel
    dsum = dv(rank, ix(n), 1)
    dmax = real(mx_in(rank, ix(n)), dp) + 0.75_dp
    call MPI_Win_fence(MPI_MODE_NOPRECEDE, winwi, ierr)
    call check_ok(ierr, 'fence (accumulate, INTEGER)')
    call MPI_Win_fence(MPI_MODE_NOPRECEDE, winwd, ierr)
    call check_ok(ierr, 'fence (accumulate, DOUBLE PRECISION)')
    call MPI_Accumulate(isum, n, MPI_INTEGER, right, 0_ak, n, MPI_INTEGER, MPI_SUM, winwi, ierr)
    call check_ok(ierr, 'MPI_Accumulate INTEGER MPI_SUM')
    call MPI_Accumulate(imax, n, MPI_INTEGER, right, int(n, ak), n, MPI_INTEGER, MPI_MAX, &
                        winwi, ierr)
    call check_ok(ierr, 'MPI_Accumulate INTEGER MPI_MAX')
    call MPI_Get_accumulate(iadd, n, MPI_INTEGER, ires, n, MPI_INTEGER, right, int(2 * n, ak), &
                            n, MPI_INTEGER, MPI_SUM, winwi, ierr)
    call check_ok(ierr, 'MPI_Get_accumulate')
    call MPI_Accumulate(dsum, n, MPI_DOUBLE_PRECISION, right, 0_ak, n, MPI_DOUBLE_PRECISION, &
                        MPI_SUM, winwd, ierr)
    call check_ok(ierr, 'MPI_Accumulate DOUBLE PRECISION MPI_SUM')
    call MPI_Accumulate(dmax, n, MPI_DOUBLE_PRECISION, right, int(n, ak), n, &
                        MPI_DOUBLE_PRECISION, MPI_MAX, winwd, ierr)
    call check_ok(ierr, 'MPI_Accumulate DOUBLE PRECISION MPI_MAX')
    call MPI_Win_fence(MPI_MODE_NOSUCCEED, winwi, ierr)
    call check_ok(ierr, 'fence (NOSUCCEED, INTEGER)')
    call MPI_Win_fence(MPI_MODE_NOSUCCEED, winwd, ierr)
    call check_ok(ierr, 'fence (NOSUCCEED, DOUBLE PRECISION)')

    call check_ints(wi(1:n), iv(rank, ix(n), 10) + iv(left, ix(n), 1), &
                    'MPI_Accumulate INTEGER MPI_SUM')
    call check_ints(wi(n + 1:2 * n), max(mx_init(rank, ix(n)), mx_in(left, ix(n))), &
                    'MPI_Accumulate INTEGER MPI_MAX')
    call check_ints(wi(2 * n + 1:3 * n), iv(rank, ix(n), 11) + 3 * ix(n), &
                    'MPI_Get_accumulate: target')
    call check_ints(ires, iv(right, ix(n), 11), &
                    'MPI_Get_accumulate: result (old value)')
    call check_dbls(wd(1:n), dv(rank, ix(n), 17) + dv(left, ix(n), 1), &
                    'MPI_Accumulate DOUBLE PRECISION MPI_SUM')
    call check_dbls(wd(n + 1:2 * n), max(real(mx_init(rank, ix(n)), dp) + 0.5_dp, &
                                         real(mx_in(left, ix(n)), dp) + 0.75_dp), &
                    'MPI_Accumulate DOUBLE PRECISION MPI_MAX')
    call MPI_Barrier(MPI_COMM_WORLD, ierr)

    ! fetch_and_op and compare_and_swap under an exclusive lock
    call MPI_Win_lock(MPI_LOCK_EXCLUSIVE, right, 0, winwi, ierr)
    call check_ok(ierr, 'MPI_Win_lock (atomics)')
    fop = rank + 1
    fres = sentinel
    call MPI_Fetch_and_op(fop, fres, MPI_INTEGER, right, r4, MPI_SUM, winwi, ierr)
    call check_ok(ierr, 'MPI_Fetch_and_op MPI_SUM')
    call MPI_Win_flush(right, winwi, ierr)
    call check_ok(ierr, 'MPI_Win_flush (fetch_and_op)')
    call check_int(fres, iv(right, 0, 12), &
                   'MPI_Fetch_and_op MPI_SUM result (old value)')
    fres = sentinel
    call MPI_Fetch_and_op(fop, fres, MPI_INTEGER, right, r4, MPI_NO_OP, winwi, ierr)
    call check_ok(ierr, 'MPI_Fetch_and_op MPI_NO_OP')
    call MPI_Win_flush(right, winwi, ierr)
    call check_ok(ierr, 'MPI_Win_flush (fetch_and_op)')
    call check_int(fres, iv(right, 0, 12) + rank + 1, &
                   'MPI_Fetch_and_op MPI_NO_OP result')

    cas_new = iv(rank, 0, 18)
    cas_cmp = iv(right, 0, 13)      ! the current value: swaps
    cas_res = sentinel
    call MPI_Compare_and_swap(cas_new, cas_cmp, cas_res, MPI_INTEGER, right, r4 + 1, winwi, ierr)
    call check_ok(ierr, 'MPI_Compare_and_swap (match)')
    call MPI_Win_flush(right, winwi, ierr)
    call check_ok(ierr, 'MPI_Win_flush (compare_and_swap)')
    call check_int(cas_res, iv(right, 0, 13), 'MPI_Compare_and_swap (match) result')
    cas_new = garbage
    cas_cmp = iv(right, 0, 13)      ! stale now: must not swap
    cas_res = sentinel
    call MPI_Compare_and_swap(cas_new, cas_cmp, cas_res, MPI_INTEGER, right, r4 + 1, winwi, ierr)
    call check_ok(ierr, 'MPI_Compare_and_swap (no match)')
    call MPI_Win_flush(right, winwi, ierr)
    call check_ok(ierr, 'MPI_Win_flush (compare_and_swap)')
    call check_int(cas_res, iv(rank, 0, 18), 'MPI_Compare_and_swap (no match) result')
    call MPI_Win_unlock(right, winwi, ierr)
    call check_ok(ierr, 'MPI_Win_unlock (atomics)')

    ! request-based operations inside lock_all
    rput = iv(rank, ix(n), 19)
    rget = sentinel
    racc = 7 * ix(n) + rank
    rgacc = 5 * ix(n)
    rgres = sentinel
    call MPI_Win_lock_all(0, winwi, ierr)
    call check_ok(ierr, 'MPI_Win_lock_all (requests)')
    call MPI_Rput(rput, n, MPI_INTEGER, right, r5, n, MPI_INTEGER, winwi, reqs(1), ierr)
    call check_ok(ierr, 'MPI_Rput')
    call MPI_Rget(rget, n, MPI_INTEGER, right, r6, n, MPI_INTEGER, winwi, reqs(2), ierr)
    call check_ok(ierr, 'MPI_Rget')
    call MPI_Raccumulate(racc, n, MPI_INTEGER, right, r7, n, MPI_INTEGER, MPI_SUM, winwi, &
                         reqs(3), ierr)
    call check_ok(ierr, 'MPI_Raccumulate')
    call MPI_Rget_accumulate(rgacc, n, MPI_INTEGER, rgres, n, MPI_INTEGER, right, r8, n, &
                             MPI_INTEGER, MPI_SUM, winwi, reqs(4), ierr)
    call check_ok(ierr, 'MPI_Rget_accumulate')
    call MPI_Wait(reqs(2), MPI_STATUS_IGNORE, ierr)
    call check_ok(ierr, 'MPI_Wait (MPI_Rget)')
    call check_int(HVAL(reqs(2)), HVAL(MPI_REQUEST_NULL), &
                   'request after MPI_Wait (MPI_REQUEST_NULL)')
    call check_ints(rget, iv(right, ix(n), 14), 'MPI_Rget after MPI_Wait')
    call MPI_Waitall(4, reqs, MPI_STATUSES_IGNORE, ierr)
    call check_ok(ierr, 'MPI_Waitall')
    do i = 1, 4
      call check_int(HVAL(reqs(i)), HVAL(MPI_REQUEST_NULL), &
                     'request after MPI_Waitall (MPI_REQUEST_NULL)')
    end do
    call check_ints(rgres, iv(right, ix(n), 16), &
                    'MPI_Rget_accumulate result (old value)')
    call MPI_Win_unlock_all(winwi, ierr)
    call check_ok(ierr, 'MPI_Win_unlock_all (requests)')
    call MPI_Barrier(MPI_COMM_WORLD, ierr)

    call MPI_Win_lock(MPI_LOCK_SHARED, rank, 0, winwi, ierr)
    call check_ok(ierr, 'MPI_Win_lock (shared, self)')
    call MPI_Win_sync(winwi, ierr)
    call check_ok(ierr, 'MPI_Win_sync')
    call check_int(wi(r4 + 1), iv(rank, 0, 12) + left + 1, &
                   'MPI_Fetch_and_op MPI_SUM: target')
    call check_int(wi(r4 + 2), iv(left, 0, 18), 'MPI_Compare_and_swap: target')
    call check_ints(wi(r5 + 1:r5 + n), iv(left, ix(n), 19), 'MPI_Rput: target')
    call check_ints(wi(r6 + 1:r6 + n), iv(rank, ix(n), 14), &
                    'MPI_Rget: source unchanged')
    call check_ints(wi(r7 + 1:r7 + n), iv(rank, ix(n), 15) + 7 * ix(n) + left, &
                    'MPI_Raccumulate: target')
    call check_ints(wi(r8 + 1:r8 + n), iv(rank, ix(n), 16) + 5 * ix(n), &
                    'MPI_Rget_accumulate: target')
    call check_ints(wi(r4 + 3:r5), [(sentinel, i = r4 + 3, r5)], 'untouched region 4')
    call MPI_Win_unlock(rank, winwi, ierr)
    call check_ok(ierr, 'MPI_Win_unlock (shared, self)')
    call MPI_Barrier(MPI_COMM_WORLD, ierr)

    call MPI_Win_free(winwi, ierr)
    call check_ok(ierr, 'MPI_Win_free')
    call check_freed(winwi, 'accumulate INTEGER window')
    call MPI_Win_free(winwd, ierr)
    call check_ok(ierr, 'MPI_Win_free')
    call check_freed(winwd, 'accumulate DOUBLE PRECISION window')
  end subroutine test_accumulate

  ! A put beyond the target window: MPI_ERR_RMA_RANGE through
  ! MPI_ERRORS_RETURN (fence and lock epochs) and through a user error
  ! handler; no data written, the window still works.
  subroutine test_errors()
    type(c_ptr) :: baseptr
    integer, pointer, contiguous, asynchronous :: wa(:)
    integer, asynchronous :: bad(n), good(2), got(2)
    integer :: want(n), ierr, rc
    WIN_T :: win
    ERRHANDLER_T :: eh, eh2

    call MPI_Win_allocate(int(n * isz, ak), isz, MPI_INFO_NULL, MPI_COMM_WORLD, baseptr, win, ierr)
    call check_ok(ierr, 'MPI_Win_allocate (errors)')
    call c_f_pointer(baseptr, wa, [n])
    wa = sentinel
    bad = garbage
    call MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN, ierr)
    call check_ok(ierr, 'MPI_Win_set_errhandler (MPI_ERRORS_RETURN)')
    call MPI_Win_get_errhandler(win, eh2, ierr)
    call check_ok(ierr, 'MPI_Win_get_errhandler')
    call check(eh2 /= MPI_ERRHANDLER_NULL, &
               'MPI_Win_get_errhandler returned MPI_ERRHANDLER_NULL')
    call MPI_Errhandler_free(eh2, ierr)
    call check_ok(ierr, 'MPI_Errhandler_free (MPI_Win_get_errhandler result)')

    ! fence epoch: elements n-2 .. 2n-3 of a window of n
    call MPI_Win_fence(MPI_MODE_NOPRECEDE, win, ierr)
    call check_ok(ierr, 'fence (errors)')
    call MPI_Put(bad, n, MPI_INTEGER, right, int(n - 2, ak), n, MPI_INTEGER, win, rc)
    call check_class(rc, MPI_ERR_RMA_RANGE, 'MPI_Put beyond the window (fence)')
    good = iv(rank, ix(2), 20)
    call MPI_Put(good, 2, MPI_INTEGER, right, 0_ak, 2, MPI_INTEGER, win, ierr)
    call check_ok(ierr, 'MPI_Put after the refused put (fence)')
    call MPI_Win_fence(0, win, ierr)
    call check_ok(ierr, 'fence after the refused put')
    want = sentinel
    want(1:2) = iv(left, ix(2), 20)
    call check_ints(wa, want, 'window after a refused put (fence)')
    got = sentinel
    call MPI_Get(got, 2, MPI_INTEGER, right, 0_ak, 2, MPI_INTEGER, win, ierr)
    call check_ok(ierr, 'MPI_Get after the refused put (fence)')
    call MPI_Win_fence(MPI_MODE_NOSUCCEED, win, ierr)
    call check_ok(ierr, 'fence (NOSUCCEED, errors)')
    call check_ints(got, iv(rank, ix(2), 20), 'get after a refused put (fence)')

    ! lock epoch: elements n-1 .. n (one past the end)
    call MPI_Win_lock(MPI_LOCK_EXCLUSIVE, right, 0, win, ierr)
    call check_ok(ierr, 'MPI_Win_lock (errors)')
    call MPI_Put(bad, 2, MPI_INTEGER, right, int(n - 1, ak), 2, MPI_INTEGER, win, rc)
    call check_class(rc, MPI_ERR_RMA_RANGE, 'MPI_Put beyond the window (lock)')
    good = iv(rank, ix(2), 21)
    call MPI_Put(good, 2, MPI_INTEGER, right, 2_ak, 2, MPI_INTEGER, win, ierr)
    call check_ok(ierr, 'MPI_Put after the refused put (lock)')
    call MPI_Win_flush(right, win, ierr)
    call check_ok(ierr, 'MPI_Win_flush (errors)')
    got = sentinel
    call MPI_Get(got, 2, MPI_INTEGER, right, 2_ak, 2, MPI_INTEGER, win, ierr)
    call check_ok(ierr, 'MPI_Get after the refused put (lock)')
    call MPI_Win_unlock(right, win, ierr)
    call check_ok(ierr, 'MPI_Win_unlock (errors)')
    call check_ints(got, iv(rank, ix(2), 21), 'get after a refused put (lock)')

    ! user error handler
    call MPI_Win_create_errhandler(eh_fn, eh, ierr)
    call check_ok(ierr, 'MPI_Win_create_errhandler')
    call MPI_Win_set_errhandler(win, eh, ierr)
    call check_ok(ierr, 'MPI_Win_set_errhandler (user)')
    call MPI_Win_get_errhandler(win, eh2, ierr)
    call check_ok(ierr, 'MPI_Win_get_errhandler (user)')
    call check_int(HVAL(eh2), HVAL(eh), &
                   'MPI_Win_get_errhandler after setting the user error handler')
    call MPI_Errhandler_free(eh2, ierr)
    call check_ok(ierr, 'MPI_Errhandler_free (MPI_Win_get_errhandler result)')
    eh_calls = 0
    eh_win = MPI_WIN_NULL
    eh_code = MPI_SUCCESS
    call MPI_Win_lock(MPI_LOCK_EXCLUSIVE, right, 0, win, ierr)
    call check_ok(ierr, 'MPI_Win_lock (user error handler)')
    call MPI_Put(bad, 1, MPI_INTEGER, right, int(n, ak), 1, MPI_INTEGER, win, rc)
    call MPI_Win_unlock(right, win, ierr)
    call check_ok(ierr, 'MPI_Win_unlock (user error handler)')
    call check_int(eh_calls, 1, &
                   'user error handler calls after a put beyond the window')
    call check_int(HVAL(eh_win), HVAL(win), 'user error handler window handle')
    call check_class(eh_code, MPI_ERR_RMA_RANGE, 'user error handler error code')
    call MPI_Win_call_errhandler(win, MPI_ERR_OTHER, ierr)
    call check_int(eh_calls, 2, &
                   'user error handler calls after MPI_Win_call_errhandler')
    call check_int(HVAL(eh_win), HVAL(win), &
                   'user error handler window handle (MPI_Win_call_errhandler)')
    call check_int(eh_code, MPI_ERR_OTHER, &
                   'user error handler code (MPI_Win_call_errhandler)')
    call MPI_Errhandler_free(eh, ierr)
    call check_ok(ierr, 'MPI_Errhandler_free (user)')
    call check_int(HVAL(eh), HVAL(MPI_ERRHANDLER_NULL), &
                   'handle after MPI_Errhandler_free (MPI_ERRHANDLER_NULL)')

    ! no refused put wrote anything
    call MPI_Barrier(MPI_COMM_WORLD, ierr)
    call MPI_Win_lock(MPI_LOCK_SHARED, rank, 0, win, ierr)
    call check_ok(ierr, 'MPI_Win_lock (shared, self)')
    call MPI_Win_sync(win, ierr)
    call check_ok(ierr, 'MPI_Win_sync')
    want = sentinel
    want(1:2) = iv(left, ix(2), 20)
    want(3:4) = iv(left, ix(2), 21)
    call check_ints(wa, want, 'window after the refused puts')
    call MPI_Win_unlock(rank, win, ierr)
    call check_ok(ierr, 'MPI_Win_unlock (shared, self)')
    call MPI_Barrier(MPI_COMM_WORLD, ierr)

    call MPI_Win_free(win, ierr)
    call check_ok(ierr, 'MPI_Win_free')
    call check_freed(win, 'errors window')
  end subroutine test_errors

end module SUPPORT_MODULE

program PROGRAM_NAME
  use SUPPORT_MODULE
  implicit none
  integer :: ierr

  call MPI_Init(ierr)
  call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
  call MPI_Comm_size(MPI_COMM_WORLD, nprocs, ierr)
  right = mod(rank + 1, nprocs)
  left = mod(rank - 1 + nprocs, nprocs)

  call test_allocate_fence()
  call test_allocmem_fence()
  call test_array_pscw()
  call test_shared()
  call test_dynamic()
  call test_passive()
  call test_counter()
  call test_accumulate()
  call test_errors()

  call MPI_Barrier(MPI_COMM_WORLD, ierr)
  if (rank == 0) write (*, '(a)') prog // ': ok'
  call MPI_Finalize(ierr)
end program PROGRAM_NAME
