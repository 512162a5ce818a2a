package io.switchboard.router.normalize;

/** The raw event cannot be understood; the reason goes to the dead-letter record. */
public class MalformedEventException extends Exception {

    public MalformedEventException(String reason) {
        super(reason);
    }

    public MalformedEventException(String reason, Throwable cause) {
        super(reason, cause);
    }
}
