package io.switchboard.api.conversations;

import io.switchboard.api.ApiException;
import io.switchboard.store.InboxStore;
import org.springframework.http.ContentDisposition;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

import java.nio.charset.StandardCharsets;

/**
 * Attachment bytes that arrived with a message (web form uploads, email parts). Always served
 * as a download with the stored type, never rendered inline, so a customer's HTML file cannot
 * run script in the agents' session.
 */
@RestController
class FileController {

    private final InboxStore store;
    private final io.switchboard.api.security.Visibility visibility;

    FileController(InboxStore store, io.switchboard.api.security.Visibility visibility) {
        this.store = store;
        this.visibility = visibility;
    }

    @GetMapping("/api/files/{ref}")
    ResponseEntity<byte[]> get(@PathVariable String ref, org.springframework.security.core.Authentication user) {
        // a file of a conversation this agent may not see is as missing as the conversation (ADR 0142)
        store.fileConversation(ref).flatMap(store::find).filter(c -> !visibility.canSee(user, c)).ifPresent(c -> {
            throw ApiException.notFound("no file " + ref);
        });
        InboxStore.StoredFile f = store.file(ref).or(() -> store.upload(ref)) // agents' own uploads too
                .orElseThrow(() -> ApiException.notFound("no file " + ref));
        MediaType type;
        try {
            type = f.contentType() == null ? MediaType.APPLICATION_OCTET_STREAM : MediaType.parseMediaType(f.contentType());
        } catch (RuntimeException e) {
            type = MediaType.APPLICATION_OCTET_STREAM;
        }
        return ResponseEntity.ok().contentType(type)
                .header(HttpHeaders.CONTENT_DISPOSITION, ContentDisposition.attachment()
                        .filename(f.name() == null ? ref : f.name(), StandardCharsets.UTF_8).build().toString())
                .header("X-Content-Type-Options", "nosniff")
                .body(f.data());
    }
}
