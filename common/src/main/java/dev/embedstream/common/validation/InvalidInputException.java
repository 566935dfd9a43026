package dev.embedstream.common.validation;

/**
 * A record that breaks the contract. {@code code} is stable and machine-readable; the message says
 * what to fix. {@code requestId} is set when a bad query still names who to answer.
 */
public class InvalidInputException extends Exception {

    private final String code;
    private final String requestId;

    public InvalidInputException(String code, String message) {
        this(code, message, null);
    }

    public InvalidInputException(String code, String message, String requestId) {
        super(message, null, false, false);
        this.code = code;
        this.requestId = requestId;
    }

    public String code() {
        return code;
    }

    public String requestId() {
        return requestId;
    }

    public InvalidInputException withRequestId(String id) {
        return new InvalidInputException(code, getMessage(), id);
    }
}
