/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rd-test-util"

#include "config.h"

#include "rd-test-util.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* Helpers shared by the unit tests. */

/**
 * rd_test_make_tmp_dir:
 * @tmpl: a name ending in XXXXXX, as for g_dir_make_tmp()
 *
 * Returns: (transfer full): the path of a new, empty folder
 */
char *
rd_test_make_tmp_dir (const char *tmpl)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp (tmpl, &error);

  g_assert_no_error (error);
  return dir;
}

/**
 * rd_test_remove_tree:
 * @path: a folder
 *
 * Removes @path and everything in it, without following symbolic links, and
 * fails the test if anything cannot be removed.
 */
void
rd_test_remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR) &&
              !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            rd_test_remove_tree (child);
          else
            g_assert_no_errno (g_unlink (child));
        }
    }

  g_assert_no_errno (g_rmdir (path));
}

/**
 * rd_test_ready_device:
 * @id: the device id
 * @name: the device name
 * @os_version: the Windows version it runs, such as "10.0.19045.3803"
 * @last_sync: when it last checked in
 *
 * Returns: (transfer full): a device that passes every readiness rule of
 *   every method
 */
RdDevice *
rd_test_ready_device (const char *id,
                      const char *name,
                      const char *os_version,
                      GDateTime *last_sync)
{
  /* clang-format off */
  return g_object_new (RD_TYPE_DEVICE,
                       "id", id,
                       "name", name,
                       "operating-system", "Windows",
                       "os-version", os_version,
                       "management-agent", "mdm",
                       "owner-type", RD_OWNER_TYPE_COMPANY,
                       "join-type", RD_JOIN_TYPE_ENTRA_JOINED,
                       "last-sync", last_sync,
                       "encrypted", RD_TRISTATE_YES,
                       "escrowed-keys", 1,
                       "autopilot", RD_TRISTATE_YES,
                       "winre-state", RD_WINRE_STATE_CONFIGURED,
                       "management-state", RD_MANAGEMENT_STATE_MANAGED,
                       NULL);
  /* clang-format on */
}

/* Crash tests: the test binary runs itself again as a child that reports
 * progress one byte at a time on its stdout, starting with 'R' when it is
 * ready, and kills it at a random moment. */

/**
 * rd_test_self_exe:
 *
 * Returns: (transfer full): the path of the running test binary
 */
char *
rd_test_self_exe (void)
{
  g_autoptr (GError) error = NULL;
  char *path = g_file_read_link ("/proc/self/exe", &error);

  g_assert_no_error (error);
  return path;
}

/**
 * rd_test_write_byte:
 * @c: the byte
 *
 * Reports @c to the parent, from the child.
 */
void
rd_test_write_byte (char c)
{
  while (write (STDOUT_FILENO, &c, 1) != 1)
    {
      if (errno != EINTR)
        _exit (3);
    }
}

/**
 * rd_test_spawn_child:
 * @argv: the child's command line
 * @out_fd: (out): the read end of the child's stdout
 *
 * Starts the child and waits until it reports 'R'.
 *
 * Returns: the child, to be ended with rd_test_kill_child()
 */
GPid
rd_test_spawn_child (const char *const *argv, int *out_fd)
{
  g_autoptr (GError) error = NULL;
  GPid pid;
  char byte;
  ssize_t n;

  g_assert_true (g_spawn_async_with_pipes (NULL, (char **) argv, NULL,
                                           G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_CLOEXEC_PIPES, NULL,
                                           NULL, &pid, NULL, out_fd, NULL, &error));
  g_assert_no_error (error);

  do
    n = read (*out_fd, &byte, 1);
  while (n < 0 && errno == EINTR);
  g_assert_cmpint (n, ==, 1);
  g_assert_cmpint (byte, ==, 'R');

  return pid;
}

/**
 * rd_test_kill_child:
 * @pid: a child from rd_test_spawn_child()
 *
 * Kills the child with SIGKILL and reaps it.
 */
void
rd_test_kill_child (GPid pid)
{
  int status;

  g_assert_no_errno (kill (pid, SIGKILL));
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFSIGNALED (status));
  g_assert_cmpint (WTERMSIG (status), ==, SIGKILL);
  g_spawn_close_pid (pid);
}

/* Runs the main loop until @query has no filter or sort under way (at
 * most 30 s). */
void
rd_test_wait_settled (RdDeviceQueryModel *query)
{
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  while (rd_device_query_model_get_pending (query) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (rd_device_query_model_get_pending (query));
}
