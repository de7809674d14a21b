/**
 * @module @docker-worker/testdroid-proxy
 * Requests and releases phones from the Testdroid device cloud for a task, reached as http://testdroid.
 */
export const packageName = '@docker-worker/testdroid-proxy';
