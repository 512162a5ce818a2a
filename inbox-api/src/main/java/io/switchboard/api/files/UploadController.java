package io.switchboard.api.files;

import io.switchboard.api.ApiException;
import io.switchboard.store.InboxStore;
import io.switchboard.store.StoreDurability;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.http.ContentDisposition;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.Authentication;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.multipart.MultipartFile;
import org.springframework.web.multipart.MultipartHttpServletRequest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.UUID;

/**
 * Files agents attach to replies: uploaded first ({@code POST /api/files}, multipart part
 * {@code file}), then named by ref in the reply. Adapters download them through a signed,
 * expiring link ({@code GET /api/files/signed/{ref}}) that needs no session (ADR 0150).
 */
@RestController
class UploadController {

    /** What an upload answers, and what a reply lists. */
    record UploadView(String ref, String name, String contentType, long size) {
    }

    private final InboxStore store;
    private final FilesProperties properties;
    private final FileLinks links;
    private final StoreDurability durability;
    private final Clock clock;

    UploadController(InboxStore store, FilesProperties properties, FileLinks links,
                     ObjectProvider<StoreDurability> durability, ObjectProvider<Clock> clock) {
        this.store = store;
        this.properties = properties;
        this.links = links;
        this.durability = durability.getIfAvailable(() -> StoreDurability.NONE);
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    @PostMapping("/api/files")
    ResponseEntity<UploadView> upload(HttpServletRequest request, Authentication user) throws IOException {
        MultipartFile file = request instanceof MultipartHttpServletRequest multipart ? multipart.getFile("file") : null;
        if (file == null) {
            throw ApiException.badRequest("send the file as multipart/form-data in a part named 'file'");
        }
        if (file.getSize() > properties.maxUploadBytes()) {
            throw new ApiException(HttpStatus.CONTENT_TOO_LARGE,
                    "the file is larger than " + properties.maxUploadBytes() / (1024 * 1024) + " MB");
        }
        if (file.isEmpty()) {
            throw ApiException.badRequest("the file is empty");
        }
        byte[] bytes = file.getBytes();
        String name = fileName(file.getOriginalFilename());
        String type = FileTypes.decide(file.getContentType(), name, bytes);
        String ref = "up-" + UUID.randomUUID().toString().replace("-", "");
        InboxStore.UploadInfo saved = store.saveUpload(ref, name, type, bytes, user.getName(), clock.instant());
        durability.commit();
        return ResponseEntity.status(HttpStatus.CREATED)
                .body(new UploadView(saved.ref(), saved.name(), saved.contentType(), saved.size()));
    }

    /** Open to anyone holding a valid link: the signature is the credential (EndpointRules). */
    @GetMapping(FileLinks.PATH + "{ref}")
    ResponseEntity<?> signed(@PathVariable String ref, @RequestParam(required = false) String expires,
                             @RequestParam(required = false) String signature) {
        String problem = links.problem(ref, expires, signature);
        if (problem != null) {
            throw new ApiException(HttpStatus.FORBIDDEN, problem);
        }
        InboxStore.StoredFile f = store.upload(ref).orElseThrow(() -> ApiException.notFound("no file " + ref));
        return ResponseEntity.ok().contentType(mediaType(f.contentType()))
                .header(HttpHeaders.CONTENT_DISPOSITION, ContentDisposition.attachment()
                        .filename(f.name() == null ? ref : f.name(), StandardCharsets.UTF_8).build().toString())
                .header("X-Content-Type-Options", "nosniff")
                .header(HttpHeaders.CACHE_CONTROL, "private, no-store")
                .body(f.data());
    }

    static MediaType mediaType(String type) {
        try {
            return type == null ? MediaType.APPLICATION_OCTET_STREAM : MediaType.parseMediaType(type);
        } catch (RuntimeException e) {
            return MediaType.APPLICATION_OCTET_STREAM;
        }
    }

    /** The last path segment of what the browser sent, without control characters, at most 200 characters. */
    static String fileName(String original) {
        String name = original == null ? "" : original;
        name = name.substring(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
        name = name.replaceAll("[\\p{Cntrl}\"]", "").strip();
        if (name.length() > 200) {
            int dot = name.lastIndexOf('.');
            String ext = dot > 0 && name.length() - dot <= 10 ? name.substring(dot) : "";
            name = name.substring(0, 200 - ext.length()) + ext;
        }
        return name.isEmpty() || name.equals(".") || name.equals("..") ? "file" : name;
    }
}
