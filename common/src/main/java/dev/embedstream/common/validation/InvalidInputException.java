package dev.embedstream.common.validation;

/**
 * A record that breaks the contract. {@code code} is stable and machine-readable; the message says
 * what to fix. {@code requestId} is set when a bad query still names who to answer.
 */
public class InvalidInputException extends Exception {

    private final String code;
    private final String requestId;
    private final String tenant;

    public InvalidInputException(String code, String message) {
        this(code, message, null, null);
    }

    public InvalidInputException(String code, String message, String requestId, String tenant) {
        super(message, null, false, false);
        this.code = code;
        this.requestId = requestId;
        this.tenant = tenant;
    }

    public String code() {
        return code;
    }

    public String requestId() {
        return requestId;
    }

    /** The query's tenant when it could be read, so the error response names it; else null. */
    public String tenant() {
        return tenant;
    }

    public InvalidInputException withQuery(String id, String queryTenant) {
        return new InvalidInputException(code, getMessage(), id, queryTenant);
    }
}
